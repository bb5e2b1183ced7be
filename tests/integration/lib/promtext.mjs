// A strict parser of the Prometheus text exposition format 0.0.4, for tests that scrape
// GET /metrics.  Strict where Prometheus is lenient, so that a malformed page fails the
// test: every sample belongs to a family announced by "# TYPE" before it (histograms:
// name_bucket with an le label, name_sum, name_count), a family is announced once and its
// samples are contiguous, metric and label names match the format's grammar, label values
// use only the \\, \" and \n escapes, a series appears once, values are Go floats (or
// NaN, +Inf, -Inf), and each histogram's buckets are cumulative in ascending le, end with
// le="+Inf" and agree with name_count.  Throws an Error naming the line at fault.
//
// Returns Map(familyName -> {type, help, samples: [{name, labels, value}]}).

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s, where) {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value '${s}'`);
  return Number(s);
}

/** Parses '{a="x",b="y"}' at the start of s; returns [labels, rest]. */
function parseLabels(s, where) {
  const labels = {};
  let i = 1;
  if (s[i] === '}') return [labels, s.slice(i + 1)];
  for (;;) {
    const m = LABEL.exec(s.slice(i));
    if (!m) throw new Error(`${where}: bad label name at '${s.slice(i, i + 20)}'`);
    const name = m[0];
    i += name.length;
    if (s[i] !== '=' || s[i + 1] !== '"') throw new Error(`${where}: expected =" after ${name}`);
    i += 2;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\n') throw new Error(`${where}: raw line feed in a label value`);
      if (c === '\\') {
        const e = s[i + 1];
        if (e === '\\') v += '\\';
        else if (e === '"') v += '"';
        else if (e === 'n') v += '\n';
        else throw new Error(`${where}: bad escape \\${e}`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    i++;
    if (name in labels) throw new Error(`${where}: label ${name} given twice`);
    labels[name] = v;
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (s[i] === '}') return [labels, s.slice(i + 1)];
    throw new Error(`${where}: expected , or } at '${s.slice(i, i + 20)}'`);
  }
}

function familyOf(name, families) {
  if (families.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return base;
    }
  }
  return null;
}

function checkHistogram(fname, f) {
  const series = new Map();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (!series.has(key)) series.set(key, { buckets: [], sum: null, count: null });
    const h = series.get(key);
    if (s.name === `${fname}_bucket`) {
      if (le === undefined) throw new Error(`${fname}: a bucket without le`);
      h.buckets.push({ le: parseValue(le, `${fname} le`), value: s.value });
    } else if (s.name === `${fname}_sum`) h.sum = s.value;
    else if (s.name === `${fname}_count`) h.count = s.value;
    else throw new Error(`${fname}: sample ${s.name} in a histogram`);
  }
  for (const [key, h] of series) {
    if (h.sum === null || h.count === null) throw new Error(`${fname}${key}: _sum or _count missing`);
    if (!h.buckets.length || h.buckets.at(-1).le !== Infinity) throw new Error(`${fname}${key}: no +Inf bucket last`);
    for (let i = 1; i < h.buckets.length; i++) {
      if (!(h.buckets[i].le > h.buckets[i - 1].le)) throw new Error(`${fname}${key}: le not ascending`);
      if (h.buckets[i].value < h.buckets[i - 1].value) throw new Error(`${fname}${key}: buckets not cumulative`);
    }
    if (h.buckets.at(-1).value !== h.count) throw new Error(`${fname}${key}: +Inf bucket != _count`);
  }
}

export function parsePrometheusText(text) {
  const families = new Map();
  const seen = new Set();
  let current = null;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the text does not end with a line feed');
  lines.pop();
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name) || NAME.exec(name)[0] !== name) throw new Error(`${where}: bad metric name ${name}`);
      let f = families.get(name);
      if (!f) {
        if (seen.has(name)) throw new Error(`${where}: family ${name} announced again`);
        f = { type: 'untyped', help: null, samples: [], typed: false };
        families.set(name, f);
        seen.add(name);
      } else if (f.samples.length) {
        throw new Error(`${where}: ${kind} for ${name} after its samples`);
      }
      if (kind === 'TYPE') {
        if (f.typed) throw new Error(`${where}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        f.type = rest;
        f.typed = true;
      } else {
        if (f.help !== null) throw new Error(`${where}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`${where}: bad escape in HELP`);
        f.help = rest.replace(/\\(\\|n)/g, (_, c) => (c === 'n' ? '\n' : '\\'));
      }
      current = name;
      return;
    }
    const m = NAME.exec(line);
    if (!m) throw new Error(`${where}: no metric name`);
    const name = m[0];
    let rest = line.slice(name.length);
    let labels = {};
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, where);
    const parts = rest.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected ' value [timestamp]'`);
    const value = parseValue(parts[1], where);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${where}: bad timestamp`);
    const fname = familyOf(name, families);
    if (!fname || !families.get(fname).typed) throw new Error(`${where}: sample ${name} before its # TYPE`);
    if (fname !== current) throw new Error(`${where}: sample of ${fname} outside its block`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`${where}: series ${key} given twice`);
    seen.add(key);
    families.get(fname).samples.push({ name, labels, value });
  });
  for (const [name, f] of families) {
    if (f.type === 'histogram') checkHistogram(name, f);
    delete f.typed;
  }
  return families;
}

/** The value of the sample name{labels} (labels: a subset that must match exactly one sample), or undefined. */
export function sampleValue(families, name, labels = {}) {
  for (const f of families.values()) {
    const hits = f.samples.filter((s) => s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (hits.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${hits.length} samples`);
    if (hits.length === 1) return hits[0].value;
  }
  return undefined;
}
