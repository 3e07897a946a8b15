// Serves an in-memory PGlite (WASM PostgreSQL) with the pgvector extension over the PostgreSQL wire protocol,
// so ordinary `pg`/knex clients can talk to it (plain .mjs in its own process: PGlite is ESM and loads WASM,
// neither of which works inside jest). The PostgreSQL 15 of the test stack has no pgvector; this is where the
// pgvector code path is tested.
//
// Prints one JSON line {"port": ..., "url": ...} when ready. Stops on SIGTERM/SIGINT, and when its stdin (if a
// pipe) closes, so a parent that dies without stopping it leaves no orphan. Errors go to stderr, exit code 1.
// Usage: node scripts/pglite-server.mjs [maxConnections]
import fs from 'node:fs';
import { setTimeout } from 'node:timers';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const maxConnections = Number(process.argv[2] ?? 20);
if (!Number.isInteger(maxConnections) || maxConnections < 1) {
  console.error('usage: pglite-server.mjs [maxConnections]');
  process.exit(2);
}

// Frontend message types of the extended query protocol that leave a batch open until its Sync.
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
const SYNC_TYPE = 'S'.charCodeAt(0);
const SYNC = new Uint8Array([SYNC_TYPE, 0, 0, 0, 4]);

/**
 * PGlite is ONE session; the socket server multiplexes connections onto it through a queue of protocol
 * messages, keeping a connection's messages together only while a transaction is open. pglite-socket 0.2.17
 * has two defects there (electric-sql/pglite#1046, open):
 *  - an extended-protocol batch (Parse/Bind/Describe/Execute/Sync) is not kept together: when a client's batch
 *    spans several socket reads (a message over ~64 KiB, e.g. a batch insert of embeddings), another
 *    connection's Parse replaces the unnamed statement between this one's Parse and Bind: "bind message supplies
 *    2 parameters, but prepared statement "" requires 5", or silently the other statement's rows;
 *  - one throw from PGlite leaves the queue marked busy for good, and every later query hangs.
 * This replaces the queue's scheduler on the server's own instance: the connection that sent the last message
 * keeps the session while it is in a transaction OR in an unfinished extended batch; a throw fails that one
 * message only. A client that disconnects mid-batch gets a Sync sent for it, so the next one starts clean.
 */
function keepBatchesTogether(queue, db) {
  if (
    !queue ||
    !Array.isArray(queue.queue) ||
    typeof queue.processQueue !== 'function' ||
    typeof queue.clearTransactionIfNeeded !== 'function'
  )
    throw new Error('pglite-socket changed its query queue: review keepBatchesTogether()');
  let batchOwner = null;

  queue.processQueue = async function processQueue() {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner =
          batchOwner ?? (db.isInTransaction() && this.lastHandlerId !== null ? this.lastHandlerId : null);
        const index = owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === owner);
        // The owner has not sent its next message yet: the others wait (they would clobber its state).
        if (index === -1) break;
        const [item] = this.queue.splice(index, 1);
        const type = item.message[0];
        try {
          await db.runExclusive(() => db.execProtocolRawStream(item.message, { onRawData: item.onData }));
        } catch (err) {
          item.reject(err);
          continue;
        }
        if (EXTENDED.has(type)) batchOwner = item.handlerId;
        else if (type === SYNC_TYPE && batchOwner === item.handlerId) batchOwner = null;
        this.lastHandlerId = item.handlerId;
        item.resolve(0);
      }
    } finally {
      this.processing = false;
    }
  };

  // Called by a connection's handler when it detaches (after its queued messages were dropped).
  const clearTransaction = queue.clearTransactionIfNeeded.bind(queue);
  queue.clearTransactionIfNeeded = async function clearTransactionIfNeeded(handlerId) {
    if (batchOwner === handlerId) {
      batchOwner = null;
      await db.runExclusive(() => db.execProtocolRaw(SYNC));
    }
    await clearTransaction(handlerId);
    await this.processQueue();
  };
}

let db;
let server;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // A stuck WASM call must not keep the process alive: give a clean stop a few seconds, then leave anyway.
  setTimeout(() => process.exit(code), 5_000).unref();
  try {
    await server?.stop();
    await db?.close();
  } catch (err) {
    console.error(`PGlite did not stop cleanly: ${err?.stack ?? err}`);
    code ||= 1;
  }
  process.exit(code);
}

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => void shutdown(0));

// stdin is the lifeline only when it is a pipe from a parent: /dev/null (stdio 'ignore') would end at once,
// and a terminal should not stop the server on a stray Ctrl-D.
const stdin = fs.fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => void shutdown(0));
  process.stdin.on('close', () => void shutdown(0));
  process.stdin.on('error', () => void shutdown(0));
  process.stdin.resume();
}

try {
  db = await PGlite.create({ extensions: { vector } });
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  keepBatchesTogether(server.queryQueue, db);
  await server.start();
  // start() listens on the OS-assigned port and records it; getServerConn() reports "host:port".
  const port = Number(server.getServerConn().split(':').pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port from ${server.getServerConn()}`);
  process.stdout.write(
    JSON.stringify({ port, url: `postgres://postgres@127.0.0.1:${port}/postgres` }) + '\n',
  );
} catch (err) {
  console.error(`PGlite server failed to start: ${err?.stack ?? err}`);
  await shutdown(1);
}
