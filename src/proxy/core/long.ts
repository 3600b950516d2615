// Long connections: WebSocket (and other upgrades), SSE responses and TCP splices. They do not
// count as requests in flight; a drain deals with them per policy (keep until the budget ends,
// or close at once) and the proxy counts what it cut.
//
// A cut WebSocket gets a close frame (1001 "going away", with the reason) before its sockets are
// destroyed. The frame must not land inside a frame the app is sending, so the server→client
// direction runs through a FrameTracker that knows where frames end.

export type LongKind = 'websocket' | 'upgrade' | 'sse' | 'tcp';

export interface LongConnection {
  readonly kind: LongKind;
  /** Closes the connection on the proxy's initiative. Called at most once. */
  cut(reason: string): void;
}

export const DRAIN_REASON = 'hotswap: instance drained';
export const SHUTDOWN_REASON = 'hotswap: proxy shutting down';

/** An unmasked (server → client) close frame with status 1001 and a reason (≤ 123 bytes). */
export function closeFrame(reason: string, code = 1001): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const frame = Buffer.allocUnsafe(4 + text.length);
  frame[0] = 0x88; // FIN + opcode 8 (close)
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

/**
 * Follows WebSocket frame boundaries in one direction of a byte stream, without copying payload:
 * per chunk it only parses frame headers (2-14 bytes) and skips payloads.
 */
export class FrameTracker {
  /** Payload bytes left in the current frame. */
  private remaining = 0;
  private readonly header = new Uint8Array(14);
  /** Header bytes collected so far (0 at a boundary or while skipping payload). */
  private headerLength = 0;

  atBoundary(): boolean {
    return this.remaining === 0 && this.headerLength === 0;
  }

  /**
   * Consumes `chunk`. With `stop`, returns the offset of the first frame boundary in it (0 when
   * already at one) and consumes only up to there; -1 when the chunk ends mid-frame.
   */
  feed(chunk: Uint8Array, stop: boolean): number {
    if (stop && this.atBoundary()) return 0;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        if (stop && this.remaining === 0) return i;
        continue;
      }
      this.header[this.headerLength++] = chunk[i++]!;
      if (this.headerLength < 2) continue;
      const b1 = this.header[1]!;
      const len7 = b1 & 0x7f;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
      if (this.headerLength < need) continue;
      let length = len7;
      if (len7 === 126) length = (this.header[2]! << 8) | this.header[3]!;
      else if (len7 === 127) {
        let hi = 0;
        for (let k = 2; k < 6; k++) hi = hi * 256 + this.header[k]!;
        let lo = 0;
        for (let k = 6; k < 10; k++) lo = lo * 256 + this.header[k]!;
        length = hi * 2 ** 32 + lo;
      }
      this.headerLength = 0;
      this.remaining = length;
      if (stop && length === 0) return i;
    }
    return -1;
  }
}
