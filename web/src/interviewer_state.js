// Listening, thinking or speaking: what the interviewer is doing, from Pipecat's RTVI events.
//   bot started speaking            -> speaking
//   bot stopped speaking            -> listening (after a short pause, so the gap between
//                                      two sentences does not flicker "listening")
//   candidate's turn ended          -> thinking (until the reply starts playing)
//   interviewer's LLM started       -> thinking, unless already speaking
// Every change is reported once, with its time, to `onChange`.

const SPEAKING_TAIL_MS = 500;

export const LABELS = Object.freeze({
  idle: "Not connected",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  thinking: "The interviewer is thinking…",
  speaking: "The interviewer is speaking",
  listening: "The interviewer is listening — your turn",
  ended: "The interview has ended",
});

export class InterviewerState {
  constructor(onChange) {
    this._onChange = onChange;
    this.current = "idle";
    this._tail = null;
  }

  set(state) {
    clearTimeout(this._tail);
    this._tail = null;
    if (state === this.current) return;
    this.current = state;
    this._onChange(state);
  }

  botStartedSpeaking() { this.set("speaking"); }

  botStoppedSpeaking() {
    clearTimeout(this._tail);
    this._tail = setTimeout(() => this.set("listening"), SPEAKING_TAIL_MS);
  }

  userStoppedSpeaking() { if (this.current !== "speaking") this.set("thinking"); }

  botThinking() { if (this.current !== "speaking") this.set("thinking"); }
}
