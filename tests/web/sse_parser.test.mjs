// Unit tests of the page's Server-Sent Events parser (web/api.js), which
// replaces EventSource so that the stream can carry an Authorization header.
// The expected events follow the HTML Living Standard §9.2.6 "Event stream
// interpretation" and the framing api/sse.c writes ("id:", "event:", one
// "data:" line, blank line; ":" comment lines as keep-alives).
// Run: node --test tests/web/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../web/api.js';

function collect() {
  const events = [];
  const retries = [];
  const p = new SseParser((type, data, id) => events.push({ type, data, id }), (ms) => retries.push(ms));
  return { p, events, retries };
}

// The gateway's framing yields one event with its type, JSON data and id.
test('gateway framing', () => {
  const { p, events } = collect();
  p.push('id: 7\nevent: scan.result\ndata: {"uuid":"00","rssi":-40}\n\n');
  assert.deepEqual(events, [{ type: 'scan.result', data: '{"uuid":"00","rssi":-40}', id: '7' }]);
});

// An event split at every possible byte boundary still arrives once, whole.
test('split anywhere', () => {
  const text = 'id: 12\nevent: provisioning.updated\ndata: {"id":"p1","state":"done"}\n\n';
  for (let i = 1; i < text.length; i++) {
    const { p, events } = collect();
    p.push(text.slice(0, i));
    p.push(text.slice(i));
    assert.deepEqual(events, [{ type: 'provisioning.updated', data: '{"id":"p1","state":"done"}', id: '12' }], `split at ${i}`);
  }
});

// CRLF split between its CR and LF is one line end, not two (which would
// dispatch early and lose the event type).
test('CRLF across chunks', () => {
  const { p, events } = collect();
  p.push('event: a\r');
  p.push('\ndata: x\r\n\r\n');
  assert.deepEqual(events, [{ type: 'a', data: 'x', id: '' }]);
});

// Keep-alive comments dispatch nothing; an event without data is dropped;
// the event type resets after each event.
test('comments, empty events and type reset', () => {
  const { p, events } = collect();
  p.push(': keep-alive\n\nevent: lonely\n\nevent: t\ndata: 1\n\ndata: 2\n\n');
  assert.deepEqual(events, [{ type: 't', data: '1', id: '' }, { type: 'message', data: '2', id: '' }]);
});

// Several data lines join with newlines; the id persists to later events;
// "retry" reports the reconnection time; a field without colon is a name
// with an empty value.
test('multi-line data, id persistence, retry', () => {
  const { p, events, retries } = collect();
  p.push('retry: 5000\nid: 3\ndata: a\ndata:b\ndata\n\ndata: c\n\n');
  assert.deepEqual(retries, [5000]);
  assert.deepEqual(events, [{ type: 'message', data: 'a\nb\n', id: '3' }, { type: 'message', data: 'c', id: '3' }]);
});

// The gateway's overflow notice is an ordinary event the page reacts to.
test('overflow event', () => {
  const { p, events } = collect();
  p.push('event: overflow\ndata: {"dropped":5}\n\n');
  assert.equal(events[0].type, 'overflow');
  assert.deepEqual(JSON.parse(events[0].data), { dropped: 5 });
});
