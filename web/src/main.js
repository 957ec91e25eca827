// The candidate page: start an interview with the microphone, see what the
// interviewer is doing and how much time is left, end it, learn where the record is.
// Pipecat's client SDK does the protocol (RTVI over its WebSocket transport,
// protobuf frames like the server's ProtobufFrameSerializer) and plays the
// interviewer's audio; this file only wires it to the page.

import { PipecatClient, RTVIEvent } from "@pipecat-ai/client-js";
import { ProtobufFrameSerializer, WebSocketTransport } from "@pipecat-ai/websocket-transport";
import { MicrophoneProblem, checkMicrophone } from "./capture.js";
import { InterviewerState, LABELS } from "./interviewer_state.js";
import { InterviewMediaManager, MIC_SAMPLE_RATE, PLAYER_SAMPLE_RATE } from "./media_manager.js";
import { CONNECTION_LOST, SERVER_UNREACHABLE, closeCodeIn, describeClose, describeMicError } from "./messages.js";
import { MicMeter } from "./mic_meter.js";
import { renderProgress } from "./progress_view.js";

const OUTCOMES = {
  completed: "The interview is complete. Thank you for your time.",
  session_timeout: "The interview reached its time limit. Thank you for your time.",
  candidate_silent: "The interview ended because the interviewer could not hear you for a while.",
  budget_exhausted: "The interviewer had to end the session early. Thank you for your time.",
  stopped: "The interviewer had to end the session early. Thank you for your time.",
};
const REFUSED = new Set([1008, 1013]);

const $ = (id) => document.getElementById(id);
const el = {
  connect: $("connect"), end: $("end"), state: $("state"), stateText: $("state-text"),
  phase: $("phase"), phaseLeft: $("phase-left"), interviewLeft: $("interview-left"),
  meter: $("mic-level"), problem: $("problem"), ended: $("ended"), endedText: $("ended-text"), record: $("record"),
  title: $("title"),
};

// What happened, for people debugging and for the browser tests (read-only for the page itself).
const page = (window.interviewPage = { states: [], timings: {}, progress: null, session: null, capture: null, problem: null });

const meter = new MicMeter(el.meter);
Object.defineProperty(page, "micPeak", { get: () => meter.peak, enumerable: true });
const interviewer = new InterviewerState(showState);
let session = null; // the current attempt: {client, media, clickedAt, opened, endedByServer, endedByUser, done, ...}

function showState(state) {
  el.state.dataset.state = state;
  el.stateText.textContent = LABELS[state];
  page.states.push({ state, at: Math.round(performance.now()) });
}

function showProblem(text) {
  page.problem = text;
  el.problem.textContent = text;
  el.problem.hidden = false;
}

function since(start) {
  return Math.round(performance.now() - start);
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}

async function start() {
  el.problem.hidden = true;
  el.ended.hidden = true;
  el.connect.disabled = true;
  page.problem = null;
  page.timings = {};
  const attempt = { clickedAt: performance.now(), opened: false, endedByServer: false, endedByUser: false, done: false };
  session = attempt;
  interviewer.set("connecting");
  try {
    await checkMicrophone();
  } catch (error) {
    return fail(attempt, error instanceof MicrophoneProblem ? error.message : describeMicError(error));
  }
  attempt.media = new InterviewMediaManager({
    onMicTrack: (track, settings) => {
      page.capture = settings;
      meter.start(track);
    },
    onPlaybackStarted: () => playbackStarted(attempt),
  });
  attempt.client = createClient(attempt);
  el.end.disabled = false;
  const token = new URLSearchParams(location.search).get("token");
  try {
    await attempt.client.connect(token ? { wsUrl: socketUrl(), token } : { wsUrl: socketUrl() });
  } catch (error) {
    console.warn("connect failed", error);
    if (!attempt.done) fail(attempt, attempt.opened ? CONNECTION_LOST : SERVER_UNREACHABLE);
  }
}

function createClient(attempt) {
  const transport = new WebSocketTransport({
    mediaManager: attempt.media,
    serializer: new ProtobufFrameSerializer(),
    recorderSampleRate: MIC_SAMPLE_RATE,
    playerSampleRate: PLAYER_SAMPLE_RATE,
  });
  const client = new PipecatClient({
    transport,
    enableMic: true,
    enableCam: false,
    callbacks: {
      onConnected: () => {
        attempt.opened = true;
        interviewer.set("thinking"); // the greeting is being prepared
      },
      onBotReady: () => { page.timings.botReadyMs = since(attempt.clickedAt); },
      onDisconnected: () => finish(attempt),
      onError: (message) => connectionError(attempt, message?.data?.message ?? String(message)),
      onDeviceError: (error) => {
        if (!attempt.opened) fail(attempt, describeMicError(error?.details?.sourceError ?? error));
      },
      onServerMessage: (data) => serverMessage(attempt, data),
    },
  });
  client.on(RTVIEvent.BotStartedSpeaking, () => {
    page.timings.firstBotSpeakingMs ??= since(attempt.clickedAt);
    interviewer.botStartedSpeaking();
  });
  client.on(RTVIEvent.BotStoppedSpeaking, () => interviewer.botStoppedSpeaking());
  client.on(RTVIEvent.UserStartedSpeaking, () => interviewer.set("listening"));
  client.on(RTVIEvent.UserStoppedSpeaking, () => interviewer.userStoppedSpeaking());
  client.on(RTVIEvent.BotLlmStarted, () => interviewer.botThinking());
  return client;
}

function playbackStarted(attempt) {
  page.timings.firstAudioMs ??= since(attempt.clickedAt);
  attempt.playbackTurn = (attempt.playbackTurn ?? 0) + 1;
  try {
    // The server's latency report closes each turn at the listener's ear with this mark.
    attempt.client?.sendClientMessage("playback-started", { turn: attempt.playbackTurn, client_time: Date.now() / 1000 });
  } catch (error) {
    console.debug("playback mark not sent", error);
  }
}

function serverMessage(attempt, data) {
  if (data?.type === "interview-session") {
    page.session = data;
    el.record.textContent = data.record;
    el.title.textContent = `Interview: ${data.role} at ${data.company}`;
  } else if (data?.type === "interview-progress") {
    page.progress = data;
    renderProgress(el, data);
    if (data.ended && !attempt.endedByServer) {
      attempt.endedByServer = true;
      attempt.outcome = data.outcome;
      attempt.media.drainPlaybackOnDisconnect = true; // let the goodbye play to the end
    }
  }
}

function connectionError(attempt, text) {
  if (attempt.done || attempt.endedByServer || attempt.endedByUser) return;
  const code = closeCodeIn(text);
  if (REFUSED.has(code)) return fail(attempt, describeClose(code));
  fail(attempt, attempt.opened ? describeClose(code) : SERVER_UNREACHABLE);
}

function fail(attempt, text) {
  if (attempt.done) return;
  showProblem(text);
  wrapUp(attempt, "idle");
  attempt.client?.disconnect().catch(() => {});
  el.connect.focus();
}

function finish(attempt) {
  if (attempt.done) return;
  if (attempt.endedByServer || attempt.endedByUser) {
    wrapUp(attempt, "ended");
    el.endedText.textContent = attempt.endedByUser
      ? "You ended the interview. What you said so far has been saved."
      : OUTCOMES[attempt.outcome] ?? "The interview has ended. Thank you for your time.";
    el.ended.hidden = false;
    el.ended.focus();
    page.ended = {
      byUser: attempt.endedByUser,
      outcome: attempt.outcome ?? null,
      atMs: since(attempt.clickedAt),
      goodbyeDrainMs: attempt.media?.lastDrainMs ?? 0,
    };
  } else {
    connectionError(attempt, "disconnected");
  }
}

function wrapUp(attempt, state) {
  attempt.done = true;
  meter.stop();
  interviewer.set(state);
  el.connect.disabled = false;
  el.end.disabled = true;
}

el.connect.addEventListener("click", () => { start(); });
el.end.addEventListener("click", () => {
  if (!session || session.done) return;
  session.endedByUser = true;
  session.client?.disconnect().catch(() => {});
  if (!session.client) finish(session);
});
