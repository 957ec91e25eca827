// The candidate page: start an interview with the microphone, see what the
// interviewer is doing and how much time is left, end it, learn where the record is.
// Pipecat's client SDK does the protocol (RTVI over its WebSocket transport,
// protobuf frames like the server's ProtobufFrameSerializer) and plays the
// interviewer's audio; this file only wires it to the page. A dropped connection is
// resumed with the session's token (reconnect.js): by itself while the page is open,
// with "Rejoin the interview" after a reload.

import { PipecatClient, RTVIEvent } from "@pipecat-ai/client-js";
import { ProtobufFrameSerializer } from "@pipecat-ai/websocket-transport";
import { MicrophoneProblem, checkMicrophone } from "./capture.js";
import { InterviewerState, LABELS } from "./interviewer_state.js";
import { InterviewMediaManager, MIC_SAMPLE_RATE, PLAYER_SAMPLE_RATE } from "./media_manager.js";
import {
  CONNECTION_LOST, RESUME_REFUSED, SERVER_UNREACHABLE, closeCodeIn, describeClose, describeMicError, notResumed,
} from "./messages.js";
import { MicMeter } from "./mic_meter.js";
import { renderProgress } from "./progress_view.js";
import { Backoff, ResumeStore, resumeUrl, windowEnd } from "./reconnect.js";
import { InterviewTransport } from "./transport.js";

const OUTCOMES = {
  completed: "The interview is complete. Thank you for your time.",
  session_timeout: "The interview reached its time limit. Thank you for your time.",
  candidate_silent: "The interview ended because the interviewer could not hear you for a while.",
  budget_exhausted: "The interviewer had to end the session early. Thank you for your time.",
  stopped: "The interviewer had to end the session early. Thank you for your time.",
};
const REFUSED = new Set([1008, 1013]);
const WINDOW_PASSED = "the time to come back has passed";

const $ = (id) => document.getElementById(id);
const el = {
  connect: $("connect"), end: $("end"), state: $("state"), stateText: $("state-text"),
  phase: $("phase"), phaseLeft: $("phase-left"), interviewLeft: $("interview-left"),
  meter: $("mic-level"), problem: $("problem"), ended: $("ended"), endedText: $("ended-text"), record: $("record"),
  title: $("title"), intro: $("intro"),
};

// What happened, for people debugging and for the browser tests (read-only for the page itself).
const page = (window.interviewPage = {
  states: [], timings: {}, progress: null, session: null, capture: null, problem: null,
  reconnects: 0, // resumed sessions (each one an `interview-session` message on a resume attempt)
  lastClose: null, // {code, reason} of the last socket the server closed
  rejoinOnLoad: false, // the tab was reloaded mid-interview and offers "Rejoin the interview"
});

const meter = new MicMeter(el.meter);
Object.defineProperty(page, "micPeak", { get: () => meter.peak, enumerable: true });
const interviewer = new InterviewerState(showState);
let session = null; // the current attempt: {client, media, clickedAt, opened, endedByServer, endedByUser, done, ...}
const resume = new ResumeStore(socketUrl());
let backoff = null; // while coming back after a drop
let retryTimer = null;

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

/** One connection: a new interview, or (with `resumeToken`) the same one after a drop. */
async function start(resumeToken = null) {
  el.problem.hidden = true;
  el.ended.hidden = true;
  el.connect.disabled = true;
  page.problem = null;
  if (!resumeToken) page.timings = {};
  const attempt = {
    clickedAt: performance.now(), opened: false, endedByServer: false, endedByUser: false, done: false, resumeToken,
  };
  session = attempt;
  interviewer.set(resumeToken ? "reconnecting" : "connecting");
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
  const wsUrl = resumeToken ? resumeUrl(socketUrl(), resumeToken) : socketUrl();
  try {
    await attempt.client.connect(token ? { wsUrl, token } : { wsUrl });
  } catch (error) {
    console.warn("connect failed", error);
    if (!attempt.done && attempt.resumeToken) dropped(attempt);
    else if (!attempt.done) fail(attempt, attempt.opened ? CONNECTION_LOST : SERVER_UNREACHABLE);
  }
}

function createClient(attempt) {
  const transport = new InterviewTransport({
    onClose: (code, reason) => serverClosed(attempt, code, reason),
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
  attempt.transport = transport;
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
    resume.save(data.resume_token, data.reconnect_grace_seconds);
    if (attempt.resumeToken) page.reconnects += 1;
    backoff = null; // (back) in the interview
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
  if (code === RESUME_REFUSED) return; // serverClosed, right after, has the reason
  if (REFUSED.has(code)) return fail(attempt, describeClose(code));
  if (resume.load() && (attempt.opened || attempt.resumeToken)) return dropped(attempt);
  fail(attempt, attempt.opened ? describeClose(code) : SERVER_UNREACHABLE);
}

/** The server closed the socket (with a code and maybe a reason). */
function serverClosed(attempt, code, reason) {
  page.lastClose = { code, reason };
  if (code === RESUME_REFUSED && !attempt.done) fail(attempt, notResumed(reason));
}

/** The connection went without the interview ending: come back with the token, with back-off. */
function dropped(attempt) {
  const saved = resume.markDropped();
  const delay = saved ? (backoff ??= new Backoff(windowEnd(saved))).next() : null;
  if (delay === null) return fail(attempt, saved ? notResumed(WINDOW_PASSED) : CONNECTION_LOST);
  stopAttempt(attempt);
  interviewer.set("reconnecting");
  el.end.disabled = false; // End stops trying
  retryTimer = setTimeout(() => {
    retryTimer = null;
    start(resume.load()?.token ?? saved.token);
  }, delay);
}

function stopAttempt(attempt) {
  attempt.done = true;
  meter.stop();
  attempt.client?.disconnect().catch(() => {});
}

function fail(attempt, text) {
  if (attempt.done) return;
  forgetInterview();
  showProblem(text);
  wrapUp(attempt, "idle");
  attempt.client?.disconnect().catch(() => {});
  el.connect.focus();
}

function finish(attempt) {
  if (attempt.done) return;
  if (attempt.endedByServer || attempt.endedByUser) {
    forgetInterview();
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
  } else if (page.lastClose?.code !== RESUME_REFUSED) {
    connectionError(attempt, "disconnected");
  }
}

/** The interview is over (or cannot come back): no token to resume, no retry pending. */
function forgetInterview() {
  resume.clear();
  backoff = null;
  clearTimeout(retryTimer);
  retryTimer = null;
  page.rejoinOnLoad = false;
  el.connect.textContent = "Start interview";
}

function wrapUp(attempt, state) {
  attempt.done = true;
  meter.stop();
  interviewer.set(state);
  el.connect.disabled = false;
  el.end.disabled = true;
}

el.connect.addEventListener("click", () => { start(resume.load()?.token ?? null); });
el.end.addEventListener("click", () => {
  if (!session) return;
  if (session.done && !retryTimer) return;
  session.endedByUser = true;
  if (session.done || !session.client) {
    // Between two attempts to come back: stop trying (the server keeps what was said).
    session.done = false;
    return finish(session);
  }
  try {
    // The server holds a socket that closes without this as a drop (a browser's close has no code).
    session.client.sendClientMessage("end-interview", {});
  } catch (error) {
    console.debug("end-interview not sent", error);
  }
  session.transport.closeOnPurpose = true;
  session.client.disconnect().catch(() => {});
});

// Leaving or reloading mid-interview is a drop: the server's grace window starts now.
window.addEventListener("pagehide", () => { if (session && !session.done) resume.markDropped(); });

// A reloaded tab whose interview is still held: offer to rejoin it (a click, so the browser
// lets the page play the interviewer's voice and asks for the microphone as usual).
if (resume.load()) {
  page.rejoinOnLoad = true;
  el.connect.textContent = "Rejoin the interview";
  el.intro.textContent = "Your connection to the interview was interrupted. Press Rejoin the interview to go on where you left off.";
}
