// The microphone: ask for it ourselves, with voice processing on, before connecting.
// Asking first gives the candidate a clear message (denied, no device, busy)
// instead of a connection that starts and then hears nothing. Pipecat's media
// manager then opens the same microphone for the interview (media_manager.js).

import { INSECURE_PAGE, describeMicError } from "./messages.js";

/** Echo cancellation matters most: the interviewer's voice from the speakers must not come back. */
export const VOICE_CONSTRAINTS = Object.freeze({
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
  channelCount: 1,
});

export class MicrophoneProblem extends Error {}

/** Resolves when a microphone can be opened; throws MicrophoneProblem with words to show. */
export async function checkMicrophone() {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) throw new MicrophoneProblem(INSECURE_PAGE);
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { ...VOICE_CONSTRAINTS } });
  } catch (error) {
    throw new MicrophoneProblem(describeMicError(error));
  }
  for (const track of stream.getTracks()) track.stop();
}

/** Make sure a track the SDK opened runs with voice processing; returns its settings. */
export async function applyVoiceProcessing(track) {
  try {
    await track.applyConstraints({ ...VOICE_CONSTRAINTS });
  } catch (error) {
    console.warn("could not apply voice processing constraints", error);
  }
  const { echoCancellation, noiseSuppression, autoGainControl, sampleRate } = track.getSettings();
  return { echoCancellation, noiseSuppression, autoGainControl, sampleRate };
}
