"""The only code that talks to remote services: WeChat and the provincial identity platform."""
