// Renders the interview clock the server sends (interview/progress.py); never counts time itself.

export function formatSeconds(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, "0")}`;
}

/** Words for a screen reader: "4 minutes 5 seconds". */
export function spokenSeconds(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  const minutes = Math.floor(total / 60);
  const rest = total % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" ");
}

export function renderProgress(elements, progress) {
  elements.phase.textContent = `${progress.phase_name} (${progress.phase_index} of ${progress.phase_count})`;
  setTimer(elements.phaseLeft, progress.phase_seconds_left);
  setTimer(elements.interviewLeft, progress.interview_seconds_left);
}

function setTimer(element, seconds) {
  element.textContent = formatSeconds(seconds);
  element.setAttribute("aria-label", spokenSeconds(seconds));
}
