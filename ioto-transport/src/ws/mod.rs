//! WebSocket client (RFC 6455).
