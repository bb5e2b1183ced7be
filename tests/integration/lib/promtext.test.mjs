// Self-test of the strict Prometheus text parser the metrics tests use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, sampleValue } from './promtext.mjs';

const good = `# HELP a_total Things, with \\\\ and \\n in help
# TYPE a_total counter
a_total{route="/x/{id}",q="say \\"hi\\"\\n\\\\"} 3
a_total{route="/y"} 1e3
# TYPE h histogram
h_bucket{le="0.5"} 1
h_bucket{le="+Inf"} 2
h_sum 0.7
h_count 2
`;

test('a well-formed page parses, escapes undone', () => {
  const f = parsePrometheusText(good);
  assert.equal(f.get('a_total').type, 'counter');
  assert.equal(f.get('a_total').help, 'Things, with \\ and \n in help');
  assert.equal(sampleValue(f, 'a_total', { q: 'say "hi"\n\\' }), 3);
  assert.equal(sampleValue(f, 'a_total', { route: '/y' }), 1000);
  assert.equal(sampleValue(f, 'h_count'), 2);
});

test('malformed pages are refused', () => {
  const bad = {
    'no TYPE': 'x 1\n',
    'no final line feed': '# TYPE x gauge\nx 1',
    'bad escape': '# TYPE x gauge\nx{a="\\t"} 1\n',
    'unterminated value': '# TYPE x gauge\nx{a="b} 1\n',
    'repeated series': '# TYPE x gauge\nx{a="b"} 1\nx{a="b"} 2\n',
    'bad value': '# TYPE x gauge\nx 1,5\n',
    'not cumulative': '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    'no +Inf': '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n',
    'count differs': '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    'split family': '# TYPE x gauge\n# TYPE y gauge\nx 1\n',
    'bad label name': '# TYPE x gauge\nx{1a="b"} 1\n',
  };
  for (const [what, text] of Object.entries(bad)) {
    assert.throws(() => parsePrometheusText(text), undefined, what);
  }
});
