/** WebSocket close codes of the public protocol (docs/protocol.md). */
export const CloseCode = {
  /** The gateway is restarting (drain): reconnect, possibly elsewhere, after the reconnect frame's delay. */
  serviceRestart: 1012,
  /** A frame over the hard limit (1 MiB); smaller oversized frames only get payload_too_large. */
  messageTooBig: 1009,
  /** Bad upgrade request, e.g. a token in the URL. */
  badRequest: 4400,
  /** No valid token (invalid, expired, missing auth frame) or the session was revoked. */
  unauthenticated: 4401,
  /** The user already holds WS_MAX_SOCKETS_PER_USER sockets on this gateway: close one first. */
  tooManySockets: 4429,
  /** The socket could not keep up with its events: reconnect and heal with sync. */
  slowConsumer: 4408,
} as const;
