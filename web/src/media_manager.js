// Pipecat's WavMediaManager (microphone capture at 16 kHz, interviewer playback at
// 24 kHz), plus what the candidate page needs from the audio path:
//  - the microphone track, with voice processing applied, for the level meter;
//  - when each interviewer utterance starts playing (first audio after silence),
//    for the "playback-started" mark the server's latency report uses and for
//    the connect-to-greeting measurement;
//  - the goodbye is heard to the end: the server sends audio faster than real
//    time and closes the socket after the last chunk, and the SDK then stops
//    playback at once; when the interview has ended we wait for what is still
//    buffered before letting it.
// Pipecat's DailyMediaManager (the transport's default) loads code from Daily's
// servers; this one needs nothing but the page.

import { WavMediaManager } from "@pipecat-ai/websocket-transport";
import { applyVoiceProcessing } from "./capture.js";

export const MIC_SAMPLE_RATE = 16000; // what the server's pipeline takes (transports/websocket.py)
export const PLAYER_SAMPLE_RATE = 24000; // what it sends
const MIC_CHUNK_SAMPLES = 512;
const MAX_DRAIN_MS = 15000;

export class InterviewMediaManager extends WavMediaManager {
  /** @param {{onMicTrack?: (track: MediaStreamTrack, settings: object) => void, onPlaybackStarted?: () => void}} hooks */
  constructor(hooks = {}) {
    super(MIC_CHUNK_SAMPLES, MIC_SAMPLE_RATE);
    this._hooks = hooks;
    this._playbackEndsAt = 0; // performance.now() when the buffered interviewer audio has played
    this.drainPlaybackOnDisconnect = false;
    this.lastDrainMs = 0; // how long the last disconnect waited for playback (diagnostics, tests)
  }

  async initialize() {
    await super.initialize();
    const track = this.tracks().local?.audio;
    if (track) this._hooks.onMicTrack?.(track, await applyVoiceProcessing(track));
  }

  bufferBotAudio(data, id) {
    const now = performance.now();
    if (now >= this._playbackEndsAt) this._hooks.onPlaybackStarted?.();
    this._playbackEndsAt = Math.max(now, this._playbackEndsAt) + (data.length / PLAYER_SAMPLE_RATE) * 1000;
    return super.bufferBotAudio(data, id);
  }

  async userStartedSpeaking() {
    this._playbackEndsAt = 0; // the SDK stops playback on barge-in
    return super.userStartedSpeaking();
  }

  /** Milliseconds of interviewer audio received but not yet played. */
  get bufferedPlaybackMs() {
    return Math.max(0, this._playbackEndsAt - performance.now());
  }

  async disconnect() {
    if (this.drainPlaybackOnDisconnect) {
      this.lastDrainMs = Math.round(Math.min(this.bufferedPlaybackMs + 200, MAX_DRAIN_MS));
      await new Promise((resolve) => setTimeout(resolve, this.lastDrainMs));
    }
    return super.disconnect();
  }
}
