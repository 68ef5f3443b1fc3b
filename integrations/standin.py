"""What the development stand-ins (``integrations.wechat.standin``, ``integrations.idauth.standin``)
share: a bare Sanic app serving a stand-in's blueprint at the root, and the command line that
serves one on its own (``--host``, ``--port``; each stand-in adds its own options)."""

from __future__ import annotations

import argparse

from sanic import Blueprint, Sanic


def bare_app(name: str, blueprint: Blueprint) -> Sanic:
    """A tiny Sanic app serving `blueprint` at the root, as the real service would."""
    app = Sanic(name)
    app.config.AUTO_EXTEND = False  # a bare server: no OpenAPI or other sanic-ext extras
    app.blueprint(blueprint)
    return app


def command_line(description: str, port: int) -> argparse.ArgumentParser:
    """The stand-in's command line: where it listens (``--host``, ``--port``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    return parser


def serve(app: Sanic, args: argparse.Namespace) -> None:
    """Run `app` in this process on the parsed ``--host`` and ``--port`` until stopped."""
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)
