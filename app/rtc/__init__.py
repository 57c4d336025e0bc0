"""The WebRTC gateway (its own asyncio process) and the web app's client for it."""
