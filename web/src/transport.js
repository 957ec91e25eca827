// Pipecat's WebSocketTransport, plus what reconnecting needs from the socket:
//  - the close code AND reason of a socket the server closed (the SDK reports only the
//    code, and the server says why it refused a resume in the reason: close 4404);
//  - End closes with code 1000 ("the client is done"), which the server trusts as on
//    purpose; the SDK's own close sends no code, which the server must hold as a drop.

import { WebSocketTransport } from "@pipecat-ai/websocket-transport";

export const NORMAL_CLOSURE = 1000;

export class InterviewTransport extends WebSocketTransport {
  /** @param {object} options WebSocketTransport's, plus onClose(code, reason) */
  constructor({ onClose, ...options }) {
    super(options);
    this._onClose = onClose;
    this.closeOnPurpose = false;
  }

  initializeWebsocket() {
    const ws = super.initializeWebsocket();
    ws.on("close", (code, reason) => this._onClose?.(code, reason ?? ""));
    return ws;
  }

  async _disconnect() {
    // The raw socket under the SDK's reconnecting wrapper; without it, the SDK's close (no code).
    if (this.closeOnPurpose) this._ws?._ws?.close?.(NORMAL_CLOSURE, "interview ended by the candidate");
    return super._disconnect();
  }
}
