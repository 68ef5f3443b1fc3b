"""WeChat mini-program integration (wechatpy) and its development stand-in."""

from integrations.wechat.client import WeChatError, WeChatService

__all__ = ["WeChatError", "WeChatService"]
