// The microphone level meter: so candidates see that they are being heard.
// Reads the same track the interview sends (Pipecat's media manager opens it).

const UPDATE_MS = 100;
const FULL_SCALE_RMS = 0.3; // speech at a normal distance reaches about this

export class MicMeter {
  constructor(meterElement) {
    this._meter = meterElement;
    this._context = null;
    this._timer = null;
    this.peak = 0; // highest level seen (tests and diagnostics)
  }

  start(track) {
    this.stop();
    this._context = new AudioContext();
    const source = this._context.createMediaStreamSource(new MediaStream([track]));
    const analyser = this._context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this._timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      this.show(Math.min(1, Math.sqrt(sum / samples.length) / FULL_SCALE_RMS));
    }, UPDATE_MS);
  }

  show(level) {
    this.peak = Math.max(this.peak, level);
    this._meter.value = level;
    this._meter.textContent = `${Math.round(level * 100)}%`;
  }

  stop() {
    clearInterval(this._timer);
    this._timer = null;
    this._context?.close().catch(() => {});
    this._context = null;
    this.show(0);
  }
}
