// Every way the page can fail, in words a candidate understands.
// The server refuses a connection by closing the WebSocket with a code
// (transports/websocket_server.py): 1013 = full, 1008 = bad or missing token,
// 4404 = an interview that cannot be resumed (bots/suspended_sessions.py).

/** Messages for a closed connection, by WebSocket close code. */
const CLOSE_CODES = {
  1008: "The interview link is not valid (the access token is wrong or missing). Ask for a new link.",
  1013: "The interview server is busy: all interview slots are taken. Please try again in a few minutes.",
  1009: "The connection was closed because too much data was sent at once. Please reload the page and try again.",
  1011: "The interview server had an internal error and closed the connection. Please try again.",
};

export const SERVER_UNREACHABLE =
  "Cannot reach the interview server. Check that it is running and that this page's address is right, then try again.";
export const CONNECTION_LOST =
  "The connection to the interviewer was lost during the interview. What you said so far has been saved. " +
  "You can start again to reconnect.";
export const INSECURE_PAGE =
  "Your browser only allows the microphone on secure pages. Open this page over https, or at " +
  "http://localhost or http://127.0.0.1 on the machine running the server.";

/** The server's close code for a resume it refuses (unknown, used or expired token; a corrupt record). */
export const RESUME_REFUSED = 4404;

/** Words for an interview the page could not come back to; `reason` as the server or the page gave it. */
export function notResumed(reason) {
  const why = String(reason ?? "").replace(/^this interview cannot be resumed:\s*/i, "").trim();
  return `The interview could not be resumed: ${why || "the server no longer holds it"}. What you said before has been saved.`;
}

/** The close code in one of the websocket transport's error messages ("... Code: 1013"), or null. */
export function closeCodeIn(text) {
  const match = /Code:\s*(\d{4})/.exec(String(text ?? ""));
  return match ? Number(match[1]) : null;
}

/** Words for a connection closed with `code` before the interview ended. */
export function describeClose(code) {
  return CLOSE_CODES[code] ?? CONNECTION_LOST;
}

/** Words for a failed microphone request (a DOMException from getUserMedia). */
export function describeMicError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return (
        "Microphone permission was denied, so the interview cannot start. Allow this page to use your " +
        "microphone (the camera or lock icon next to the address), then press Start interview again."
      );
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect a microphone or headset, then press Start interview again.";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return (
        "Your microphone could not be started; another application may be using it. Close other apps that " +
        "use the microphone, then try again."
      );
    default:
      return `The microphone could not be used (${error?.name ?? "unknown error"}: ${error?.message ?? ""}).`;
  }
}
