"""Load benchmark (issue #32): N simultaneous candidates against ONE running bot, stepped up to the knee.

Starts `bot.py --transport websocket` once per provider mode and steps N up, each step a
round of N simultaneous interviews (scripts/load_candidate.py: pre-rendered answers, many
candidates per client process). Modes:

- `zero-cost`: the bot's cloud path (Deepgram, OpenAI, ElevenLabs services, unchanged)
  against the scripted emulators (emulators/scripted.py), each emulator its own process, so
  the bot's own cost is what is measured and the emulators' CPU is shown apart;
- `offline`: the embedded engines (Whisper, the structured interviewer, Piper) in the bot.

Per N it prints reply time p50 / p95, unanswered turns, CPU (cores used, and the bot's ms
per session-second over its idle rate) and peak RSS per process group (bot, each emulator,
clients), the bot's event-loop lag (worst 10 s window's p99, and the max), interviewer
audio frames that reached a candidate after its playback ran dry (late), and provider
failovers. It stops at the first step whose p95 is more than `--degrade-ms` (300) over
N = 1's or that left a turn unanswered, and prints the knee: the last N that held.

    timeout 1500 .venv/bin/python scripts/bench_load.py --mode zero-cost --steps 1 5 10 20 30 40
    timeout 1500 .venv/bin/python scripts/bench_load.py --mode offline --steps 1 2 3 4 6

Every run is bounded: `--max-seconds` for the whole run, per-turn timeouts in the candidates.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from scripts.bench_concurrent_sessions import CLOCK_TICKS, BotUnderTest  # noqa: E402
from scripts.bench_processors import short_config  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
EMULATORS = ("deepgram", "openai", "elevenlabs")
SETTINGS = {"deepgram": "DEEPGRAM_BASE_URL", "openai": "OPENAI_BASE_URL", "elevenlabs": "ELEVENLABS_BASE_URL"}
# Complete statements, so the turn policy's own waits (a question back, a list announced) stay out of the figures.
ANSWERS = [
    "I am a backend engineer with eight years of experience building payment services in Python and Postgres.",
    "Every payment request carries an idempotency key that we store in the same transaction as the payment record.",
    "The record and the key roll back together so the client can safely send the same request again.",
    "We run contract tests against a staging copy of the ledger before every release.",
    "I would shard the ledger by merchant and move the reporting queries to a read replica.",
]
DEFAULT_STEPS = {"zero-cost": [1, 5, 10, 20, 30, 40], "offline": [1, 2, 3, 4, 6]}


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a worker pool's workers count as the bot)."""
    pids, i = [pid], 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*"):
            try:
                pids += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        i += 1
    return pids


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, IndexError):
            pass
    return total


def rss_mb(pid: int) -> float:
    total = 0.0
    for p in process_tree(pid):
        try:
            line = next(x for x in Path(f"/proc/{p}/status").read_text().splitlines() if x.startswith("VmRSS:"))
            total += int(line.split()[1]) / 1024
        except (OSError, StopIteration):
            pass
    return total


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Emulator:
    """One scripted emulator in its own process; `url` is what the bot's setting gets."""

    def __init__(self, name: str, script: Path, replies: Path, log: Path) -> None:
        self.name = name
        self._log = open(log, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [PYTHON, "-m", "emulators.scripted", "--only", name, "--script", str(script), "--replies", str(replies)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True, env={**os.environ, "LOG_LEVEL": "WARNING"},
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if f"{SETTINGS[name]}=" not in line:
            raise SystemExit(f"{name} emulator did not start: {line!r} (see {log})")
        self.url = line.rsplit("=", 1)[1].strip().rstrip(")")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@dataclass
class Sampler:
    """Peak RSS of each process group and the bot's loop lag from /health, sampled while a step runs."""

    pids: dict[str, int]
    health_url: str
    peak_rss: dict[str, float] = field(default_factory=dict)
    lag_p99: list[float] = field(default_factory=list)
    lag_max: float = 0.0
    _running: bool = True

    def start(self) -> Sampler:
        self.peak_rss = {k: rss_mb(p) for k, p in self.pids.items()}
        threading.Thread(target=self._rss, daemon=True).start()
        threading.Thread(target=self._health, daemon=True).start()
        return self

    def stop(self) -> None:
        self._running = False

    def _rss(self) -> None:
        while self._running:
            for k, p in self.pids.items():
                self.peak_rss[k] = max(self.peak_rss.get(k, 0.0), rss_mb(p))
            time.sleep(0.5)

    def _health(self) -> None:
        while self._running:
            time.sleep(5.0)  # the monitor's window is 10 s: every tick is in two samples, none missed
            try:
                health = fetch_health(self.health_url)
            except OSError:
                continue
            loads = [health, *(w.get("load", {}) for w in health.get("workers", []) if isinstance(w, dict))]
            self.lag_p99.append(max(float(h.get("loop_lag_p99_ms", 0.0)) for h in loads))
            self.lag_max = max(self.lag_max, *(float(h.get("loop_lag_ms", 0.0)) for h in loads))


def fetch_health(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(json.loads(response.read()))


def render_answers(directory: Path, answers: list[str]) -> tuple[Path, list[dict]]:
    """The candidate's answers spoken once by its Piper voice, as raw 16 kHz PCM files, and the
    Deepgram emulator's script: each text with the loud audio it takes (so transcripts split exactly)."""
    from emulators.deepgram import SPEECH_RMS, chunk_rms
    from scripts.candidate_voice import default_candidate_synthesizer

    voice = default_candidate_synthesizer()
    audio = directory / "answers"
    audio.mkdir()
    script = []
    for i, text in enumerate(answers):
        pcm = voice.synthesize(text, 16000)
        (audio / f"answer_{i:02d}.pcm").write_bytes(pcm)
        loud = sum(1 for k in range(0, len(pcm), 640) if chunk_rms(pcm[k : k + 640]) >= SPEECH_RMS)
        script.append({"text": text, "loud_secs": round(loud * 0.02, 2)})
    return audio, script


def run_clients(url: str, audio: Path, n: int, per_process: int, args: argparse.Namespace, budget: float) -> tuple[list[dict], list[dict], float]:  # fmt: skip
    """N candidates over ceil(N / per_process) client processes; (results, client summaries, client CPU s)."""
    procs = []
    for first in range(0, n, per_process):
        count = min(per_process, n - first)
        cmd = [PYTHON, "-m", "scripts.load_candidate", "--url", url, "--audio-dir", str(audio), "--count", str(count),
               "--first-index", str(first), "--answers", str(args.answers), "--stagger", str(args.stagger),
               "--turn-timeout", str(args.turn_timeout), "--max-seconds", str(budget)]  # fmt: skip
        procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    results: list[dict] = []
    clients: list[dict] = []
    client_cpu = 0.0
    for p in procs:
        last_cpu = 0.0
        try:
            while p.poll() is None:
                last_cpu = cpu_seconds(p.pid) or last_cpu
                time.sleep(0.5)
            out = p.stdout.read() if p.stdout else ""
        except Exception:
            p.kill()
            raise
        client_cpu += last_cpu
        for line in out.splitlines():
            row = json.loads(line)
            (clients if "client" in row else results).append(row.get("client", row))
    return results, clients, client_cpu


def measure_mode(mode: str, args: argparse.Namespace, deadline: float) -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        answers = ANSWERS[: args.answers]
        audio, lines = render_answers(directory, answers)
        script = directory / "candidate.yaml"
        script.write_text(yaml.safe_dump({"answers": lines}))
        replies = directory / "replies.txt"
        replies.write_text("\n".join(_interviewer_lines(args.answers)))
        sessions = directory / "sessions"
        env = {**os.environ, "SESSIONS_DIR": str(sessions), "MAX_SESSIONS": str(max(args.steps) + 5),
               "LOG_LEVEL": args.log_level, "WORKERS": str(args.workers)}  # fmt: skip
        emulators: list[Emulator] = []
        if mode == "zero-cost":
            emulators = [Emulator(name, script, replies, directory / f"{name}.log") for name in EMULATORS]
            env.update(cloud_env({e.name: e.url for e in emulators}))
        else:
            env.update({"STT_PROVIDER": "local", "LLM_PROVIDER": "local", "TTS_PROVIDER": "local"})
        bot = BotUnderTest(ROOT, short_config(directory), env, log=directory / "bot.log")
        try:
            url = bot.wait_ready()
            health = url.replace("ws://", "http://").rsplit("/ws", 1)[0] + "/health"
            pids = {"bot": bot.process.pid, **{e.name: e.process.pid for e in emulators}}
            time.sleep(2.0)
            idle_rss, cpu0, t0 = rss_mb(bot.process.pid), cpu_seconds(bot.process.pid), time.monotonic()
            time.sleep(3.0)
            idle_rate = (cpu_seconds(bot.process.pid) - cpu0) / (time.monotonic() - t0)
            base_p95: float | None = None
            for n in args.steps:
                budget = deadline - time.monotonic()
                if budget < 30:
                    print(f"  (stopped: --max-seconds reached before N={n})", flush=True)
                    break
                rounds = args.baseline_rounds if base_p95 is None else 1
                row = measure_step(n, url, audio, pids, health, sessions, args, budget, rounds)
                row.update(mode=mode, idle_rss_mb=idle_rss, idle_cpu_cores=idle_rate)
                row["bot_ms_per_session_s"] = (
                    1000 * (row["cpu_s"]["bot"] - idle_rate * row["wall_s"]) / max(row["session_s"], 1e-9)
                )
                rows.append(row)
                show_row(row)
                base_p95 = row["p95_ms"] if base_p95 is None else base_p95
                degraded = row["p95_ms"] - base_p95 > args.degrade_ms or math.isnan(row["p95_ms"])
                if row["unanswered"] or row["errors"] or degraded:
                    row["held"] = False
                    break
                row["held"] = True
                wait_idle(health, 60)
        finally:
            bot.stop()
            for e in emulators:
                e.stop()
            if args.keep_logs:
                for log in directory.glob("*.log"):
                    (args.keep_logs / f"{mode}-{log.name}").write_text(log.read_text())
    return rows


def _interviewer_lines(answers: int) -> list[str]:
    from emulators.scripted import DEFAULT_REPLIES

    return [DEFAULT_REPLIES[i % len(DEFAULT_REPLIES)] for i in range(answers)]


def cloud_env(urls: dict[str, str]) -> dict[str, str]:
    """The cloud path pointed at the emulators, as tests/e2e/test_cloud_emulators_interview.py does."""
    return {
        "STT_PROVIDER": "cloud", "LLM_PROVIDER": "cloud", "TTS_PROVIDER": "cloud",
        "DEEPGRAM_API_KEY": "dg-load", "DEEPGRAM_BASE_URL": urls["deepgram"],
        "OPENAI_API_KEY": "sk-load", "OPENAI_BASE_URL": urls["openai"], "OPENAI_MODEL": "scripted-interviewer",
        "ELEVENLABS_API_KEY": "el-load", "ELEVENLABS_BASE_URL": urls["elevenlabs"],
    }  # fmt: skip


def measure_step(n: int, url: str, audio: Path, pids: dict[str, int], health: str, sessions: Path,
                 args: argparse.Namespace, budget: float, rounds: int = 1) -> dict:  # fmt: skip
    failovers_before = count_failovers(sessions)
    cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
    sampler = Sampler(pids, health).start()
    profile = args.keep_logs / f"profile-N{n}.txt" if args.profile_at == n and args.keep_logs else None
    profiler = start_profile(pids["bot"], args.profile_seconds, profile) if profile else None
    t0 = time.monotonic()
    results: list[dict] = []
    clients: list[dict] = []
    client_cpu = 0.0
    for _ in range(rounds):  # N = 1 is the baseline: more than one interview, so its p95 is not one turn's
        r, c, cc = run_clients(url, audio, n, args.per_client, args, min(budget, args.step_seconds))
        results, clients, client_cpu = results + r, clients + c, client_cpu + cc
    wall = time.monotonic() - t0
    sampler.stop()
    if profiler is not None and profile is not None:
        profiler.wait(timeout=args.profile_seconds + 30)
        show_profile(profile)
    cpu = {k: cpu_seconds(p) - cpu0[k] for k, p in pids.items()}
    cpu["clients"] = client_cpu
    latencies = [v for r in results for v in r["latencies_ms"]]
    return {
        "sessions": n, "wall_s": wall, "session_s": sum(r["seconds"] for r in results),
        "replies": len(latencies), "answers": sum(r["answers_sent"] for r in results),
        "unanswered": sum(r["unanswered"] for r in results), "errors": [r["error"] for r in results if r["error"]],
        "p50_ms": statistics.median(latencies) if latencies else float("nan"), "p95_ms": percentile(latencies, 0.95),
        "cpu_s": cpu, "peak_rss_mb": sampler.peak_rss,
        "lag_p99_ms": max(sampler.lag_p99, default=float("nan")), "lag_max_ms": sampler.lag_max,
        "late_frames": sum(r["late_frames"] for r in results), "reply_frames": sum(r["reply_frames"] for r in results),
        "client_tick_late_p99_ms": max((c["tick_late_p99_ms"] for c in clients), default=0.0),
        "failovers": count_failovers(sessions) - failovers_before,
    }  # fmt: skip


def start_profile(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the bot (collapsed stacks, GIL-idle samples left out) while a step runs."""
    cmd = [str(ROOT / ".venv" / "bin" / "py-spy"), "record", "--pid", str(pid), "--duration", str(int(seconds)),
           "--rate", "100", "--format", "raw", "--nonblocking", "--output", str(output)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def show_profile(collapsed: Path, top: int = 15) -> None:
    """Where the bot's samples went: the top functions by own time and by inclusive time."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + n
    print(f"\nprofile ({total} samples at 100 Hz): own time")
    for name, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / total:5.1f} %  {name}")
    print("inclusive time, this repository's code")
    rooms = tuple(f"({d.name}/" for d in ROOT.iterdir() if d.is_dir() and (d / "__init__.py").exists())
    ours = {k: v for k, v in inclusive.items() if any(r in k for r in rooms)}
    for name, n in sorted(ours.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / total:5.1f} %  {name}")


def count_failovers(sessions: Path) -> int:
    count = 0
    for events in sessions.glob("*/events.jsonl"):
        count += sum(1 for line in events.read_text().splitlines() if '"type": "failover"' in line)
    return count


def wait_idle(health: str, timeout: float) -> None:
    """Let the step's sessions finish their records before the next step starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not fetch_health(health).get("active_sessions"):
                return
        except OSError:
            pass
        time.sleep(1.0)


HEADER = (f"{'N':>3} {'reply p50/p95 ms':>17} {'unans':>5} {'bot cores':>9} {'ms/sess-s':>9} {'emu cores':>9} "
          f"{'client cores':>12} {'bot RSS MB':>10} {'+MB/sess':>8} {'lag p99/max ms':>14} {'late/frames':>12} {'failover':>8}")  # fmt: skip


def show_row(row: dict) -> None:
    n, wall = row["sessions"], row["wall_s"]
    emu = sum(v for k, v in row["cpu_s"].items() if k in EMULATORS) / wall
    per_session = (row["peak_rss_mb"]["bot"] - row["idle_rss_mb"]) / n
    print(f"{n:>3} {row['p50_ms']:>8.0f} / {row['p95_ms']:<6.0f} {row['unanswered']:>5} "
          f"{row['cpu_s']['bot'] / wall:>9.2f} {row['bot_ms_per_session_s']:>9.0f} {emu:>9.2f} "
          f"{row['cpu_s']['clients'] / wall:>12.2f} {row['peak_rss_mb']['bot']:>10.0f} {per_session:>8.1f} "
          f"{row['lag_p99_ms']:>6.1f} / {row['lag_max_ms']:<6.0f} {row['late_frames']:>5}/{row['reply_frames']:<6} "
          f"{row['failovers']:>8}", flush=True)  # fmt: skip
    if row["errors"]:
        print(f"    {len(row['errors'])} candidate error(s), first: {row['errors'][0]}", flush=True)


def show_knee(mode: str, rows: list[dict], degrade_ms: float) -> None:
    held = [r for r in rows if r.get("held")]
    emulator_share = ""
    if mode == "zero-cost" and rows:
        last = rows[-1]
        emulator_share = ", emulators " + ", ".join(
            f"{k} {last['cpu_s'][k] / last['wall_s']:.2f}" for k in EMULATORS
        ) + f" cores at N={last['sessions']}"  # fmt: skip
    if not rows:
        print(f"{mode}: no step ran")
    elif not held:
        print(f"{mode}: knee below N={rows[0]['sessions']} (the first step already failed)")
    else:
        stop = rows[-1] if not rows[-1].get("held") else None
        why = (
            ""
            if stop is None
            else f"; N={stop['sessions']} did not (p95 {stop['p95_ms']:.0f} ms, {stop['unanswered']} unanswered)"
        )
        print(f"{mode}: knee N={held[-1]['sessions']} (last step within +{degrade_ms:g} ms of N=1's p95 "
              f"{rows[0]['p95_ms']:.0f} ms with every turn answered{why}){emulator_share}", flush=True)  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["zero-cost", "offline", "both"], default="zero-cost")
    p.add_argument("--steps", type=int, nargs="+", help="N per step (default: per mode, see the docstring)")
    p.add_argument("--answers", type=int, default=4, help="answers per interview (max 5)")
    p.add_argument("--per-client", type=int, default=20, help="candidates per client process")
    p.add_argument("--stagger", type=float, default=0.1, help="seconds between candidates joining")
    p.add_argument("--turn-timeout", type=float, default=20.0)
    p.add_argument("--baseline-rounds", type=int, default=3, help="interviews, one after another, in the first step")
    p.add_argument("--degrade-ms", type=float, default=300.0)
    p.add_argument("--workers", type=int, default=1, help="bot worker processes (bot.py --workers)")
    p.add_argument("--step-seconds", type=float, default=240.0, help="a step's clients are stopped after this")
    p.add_argument("--max-seconds", type=float, default=1500.0, help="the whole run, every mode")
    p.add_argument("--profile-at", type=int, help="py-spy the bot during the step with this N (needs --keep-logs)")
    p.add_argument("--profile-seconds", type=float, default=40.0)
    p.add_argument("--log-level", default="WARNING", help="the bot's LOG_LEVEL (DEBUG to see why a turn failed)")
    p.add_argument("--keep-logs", type=Path, help="copy the bot's and emulators' logs into this folder")
    args = p.parse_args()
    deadline = time.monotonic() + args.max_seconds
    modes = ["zero-cost", "offline"] if args.mode == "both" else [args.mode]
    results = {}
    for mode in modes:
        args.steps = args.steps if args.mode != "both" and args.steps else DEFAULT_STEPS[mode]
        print(f"\n{mode}: one bot, {args.answers} answers per interview, steps {args.steps}\n{HEADER}", flush=True)
        results[mode] = measure_mode(mode, args, deadline)
    print()
    for mode, rows in results.items():
        show_knee(mode, rows, args.degrade_ms)


if __name__ == "__main__":
    main()
