import * as net from 'node:net';

/**
 * Reads an accepted TCP socket into one buffer shared by every such socket, instead of
 * a fresh buffer per read: `onData` gets a view of it, valid until it returns (the RTMP
 * parser copies what it keeps). Node's `onread` option does exactly this, but only in
 * the Socket constructor: a net.Server's sockets cannot have it (nodejs/node#25436 added
 * it for clients; the docs issue #53792 says where it is accepted). So this sets on an
 * accepted socket what that constructor would have set (the same two private fields
 * and `useUserBuffer` of the handle), found from a probe socket made with the option;
 * where they are not found, the socket keeps its 'data' events.
 *
 * Why: each read of a publisher's socket was a buffer of its own (the ingest's bitrate
 * in garbage, ~8 MB/s at 20 creators), dead at once and freed only by the next scavenge:
 * 16 MB of dead buffers at any moment in bench/multistream, 0.8 MB per live stream.
 */
/** Bytes of one read (Node's own read size too): a read this long may have left more. */
export const READ_BYTES = 64 * 1024;
const SHARED = Buffer.allocUnsafeSlow(READ_BYTES);

interface OnreadFields {
  buffer: symbol;
  callback: symbol;
}

let fields: OnreadFields | null | undefined;

function onreadFields(): OnreadFields | null {
  if (fields !== undefined) return fields;
  fields = null;
  try {
    const probe = new net.Socket({
      onread: { buffer: Buffer.alloc(1), callback: () => true },
    } as net.SocketConstructorOpts);
    const symbols = Object.getOwnPropertySymbols(probe);
    const buffer = symbols.find((s) => s.description === 'kBuffer');
    const callback = symbols.find((s) => s.description === 'kBufferCb');
    const own = probe as unknown as Record<symbol, unknown>;
    if (
      buffer &&
      callback &&
      own[buffer] instanceof Uint8Array &&
      typeof own[callback] === 'function'
    ) {
      fields = { buffer, callback };
    }
    probe.destroy();
  } catch {
    fields = null;
  }
  return fields;
}

/**
 * Makes `socket` (accepted, not read from yet: call it in the connection listener)
 * read into the shared buffer and emit each read as a 'data' event with a view of it.
 * Returns false (nothing changed) when this Node does not allow it.
 */
export function readIntoSharedBuffer(socket: net.Socket): boolean {
  const f = onreadFields();
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })
    ._handle;
  if (!f || !handle || typeof handle.useUserBuffer !== 'function') return false;
  const own = socket as unknown as Record<symbol, unknown>;
  own[f.buffer] = SHARED;
  own[f.callback] = (nread: number, buf: Buffer) => {
    socket.emit('data', buf.subarray(0, nread));
    return true;
  };
  handle.useUserBuffer(SHARED);
  return true;
}

/**
 * Node's own `onread` option for a socket we connect (a pull from another ingest node,
 * a push): the same shared buffer, each read handed to `onData` as a view of it.
 */
export function sharedOnread(onData: (data: Buffer) => void): net.OnReadOpts {
  return {
    buffer: SHARED,
    callback: (nread: number, buf: Uint8Array) => {
      onData((buf as Buffer).subarray(0, nread));
      return true;
    },
  };
}

/** True when `data` is a view of the shared read buffer (for tests). */
export function isSharedReadBuffer(data: Buffer): boolean {
  return data.buffer === SHARED.buffer;
}
