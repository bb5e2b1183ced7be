// meshgw's HCI bearer against meshsim's virtual controller (sim/PORTS.md, "HCI port"):
// what the driver sets up in the controller, and the faults of a real radio. The full
// commissioning flow through the HCI bearer is gateway.test.mjs and rpr.test.mjs run with
// IT_BEARER=hci-legacy and IT_BEARER=hci-ext (tests/integration/run.sh).
//
// Each fault is injected with `meshsim ctl hci 0 ...` while meshgw runs: the controller is
// unplugged mid-session and plugged back in, stops answering, reports a Hardware Error,
// sends garbage. After each, meshgw must have noticed (bearer state), recovered on its own,
// lost nothing from the inventory, and every node must answer again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor } from './harness.mjs';

for (const bearer of ['hci-ext', 'hci-legacy']) {
  describe(`HCI bearer on a ${bearer === 'hci-ext' ? '5.x controller with extended advertising' : 'legacy-only 4.2 controller'}`, () => {
    let w;
    let op;
    let viewer;
    const addr = {};

    before(async () => {
      w = await startWorld({ scenario: 'small.json', bearer });
      op = w.tokens.operator;
      viewer = w.tokens.viewer;
    });
    after(async () => {
      if (w) await w.close();
    });

    const hci = async (...args) => (await w.ctl('hci', 0, ...args)).trim();
    const hciStatus = async () => JSON.parse(await hci('status'));
    const health = async () => (await w.api('GET', '/healthz')).body;

    /** Waits until /healthz says the bearer is (not) ready; resolves with the body. */
    const waitBearer = (ready, what) => waitFor(async () => {
      const h = await health();
      return h.bearer === ready && h;
    }, { timeout: 30000, what });

    /** OnOff Set and Get through the bearer, checked on the device itself. */
    async function lightWorks(name, on) {
      const set = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: addr[name], on } });
      assert.deepEqual(set, { address: addr[name], present: on }, `${name} acknowledged OnOff Set`);
      const get = await w.ok('GET', `/api/v1/onoff/${addr[name]}`, { token: viewer });
      assert.deepEqual(get, { address: addr[name], present: on }, `${name} answered OnOff Get`);
      assert.match(await w.dev(name, 'onoff'), new RegExp(`^0:${on ? 'on' : 'off'}`), `${name} is ${on ? 'on' : 'off'}`);
    }

    /** Nothing lost: the inventory holds every node at a unique address, each answers Config. */
    async function inventoryIntact() {
      const nodes = (await w.ok('GET', '/api/v1/nodes?limit=100', { token: viewer })).items;
      const mine = nodes.filter((n) => n.name in addr);
      assert.equal(mine.length, Object.keys(addr).length, 'every provisioned node is in the inventory');
      assert.equal(new Set(nodes.map((n) => n.address)).size, nodes.length, 'addresses are unique');
      for (const n of mine) {
        assert.equal(n.address, addr[n.name], `${n.name} kept its address`);
        const st = await w.dev(n.name, 'status');
        assert.match(st, new RegExp(`^provisioned addr 0x${n.address.toString(16).padStart(4, '0')}`), `${n.name}: ${st}`);
        const r = await w.ok('POST', `/api/v1/nodes/${n.address}/config`, { token: op, body: { op: 'relay_get' } });
        assert.equal(typeof r.status, 'number', `${n.name} answers Config Relay Get`);
      }
    }

    test('start-up: the controller is set up as the driver must', async () => {
      const h = await health();
      assert.equal(h.bearer, true);
      const st = h.bearer_state;
      assert.equal(st.state, 'ready');
      assert.equal(st.controller.advertising, bearer === 'hci-ext' ? 'extended' : 'legacy');
      assert.equal(st.controller.advertising_sets, bearer === 'hci-ext' ? 4 : 1);
      const net = await w.ok('GET', '/api/v1/network', { token: viewer });
      assert.deepEqual(net.bearer_state, st, '/api/v1/network shows the same bearer state');

      const c = await hciStatus();
      assert.equal(c.flow_violations, 0, 'never two commands outstanding with Num_HCI_Command_Packets = 1');
      assert.equal(c.command_errors, 0, 'no command refused (lengths, ranges, Command Disallowed)');
      assert.equal(c.scanning, true, 'scanning');
      assert.equal(c.filter_duplicates, false, 'Filter_Duplicates off: every mesh PDU reaches the stack');
      assert.equal(c.scan_window_us, c.scan_interval_us, 'scan window = interval (no duty-cycle gaps)');
      assert.equal(c.scan_format, bearer === 'hci-ext' ? 'extended' : 'legacy', 'scanning with the commands of the advertising mode');
      // Never legacy and extended advertising/scanning commands mixed (Vol 4 Part E §3.1.1).
      const legacyCmds = ['0x2006', '0x2008', '0x2009', '0x200a', '0x200b', '0x200c'];
      const extCmds = ['0x2035', '0x2036', '0x2037', '0x2039', '0x203c', '0x203d', '0x2041', '0x2042'];
      const used = Object.keys(c.opcodes).filter((k) => c.opcodes[k] > 0);
      const forbidden = bearer === 'hci-ext' ? legacyCmds : extCmds;
      assert.deepEqual(used.filter((k) => forbidden.includes(k)), [], `only ${bearer === 'hci-ext' ? 'extended' : 'legacy'} commands: ${used}`);
      assert.equal(c.command_mode, bearer === 'hci-ext' ? 'extended' : 'none');
      // Set Event Mask bit 61 (LE Meta) and, in LE Set Event Mask, the report the scan format delivers.
      assert.equal(BigInt(c.event_mask) & (1n << 61n), 1n << 61n, 'the host enabled the LE Meta event');
      const reportBit = bearer === 'hci-ext' ? 12n : 1n;
      assert.equal(BigInt(c.le_event_mask) & (1n << reportBit), 1n << reportBit, 'the advertising report subevent is enabled');
      assert.equal(c.reports_masked, 0, 'no report was masked away from the host');
    });

    test('provisioning and OnOff through the controller', async () => {
      const { done } = await w.provision(['light-noob', 'light-static16']);
      for (const s of done) addr[s.name] = s.address;
      await lightWorks('light-noob', true);
      await lightWorks('light-static16', true);
      const c = await hciStatus();
      assert.ok(c.reports_sent > 0, 'advertising reports went to the host');
      assert.ok(c.tx_packets > 0, 'the controller advertised');
      assert.equal(c.flow_violations, 0);
      assert.equal(c.command_errors, 0);
    });

    test('unplugged mid-session and plugged back in: the session continues', async () => {
      const r = await w.ok('POST', '/api/v1/provisioning', {
        token: op, body: { devices: [{ uuid: w.device('switch-output').uuid, name: 'switch-output', auth: w.authFor('switch-output') }] },
      }, [202]);
      const id = r.sessions[0].id;
      await w.waitSession(id, ['waiting_oob']);
      const value = await w.outputOob('switch-output');

      assert.match(await hci('hangup'), /^ok/);
      const down = await waitBearer(false, 'meshgw to notice the unplugged controller');
      assert.notEqual(down.bearer_state.state, 'ready');
      assert.ok(down.bearer_state.reason, 'the bearer state gives a reason');
      assert.match(await hci('plug'), /^ok/);
      await waitBearer(true, 'meshgw to re-open and re-initialise the controller');

      await w.ok('POST', `/api/v1/provisioning/${id}/oob`, { token: op, body: { value } });
      const s = await w.waitSession(id, ['done']);
      addr['switch-output'] = s.address;
      await inventoryIntact();
      await lightWorks('light-noob', false);
    });

    test('stops answering: detected by the command timeout, recovered after', async () => {
      const before = await hciStatus();
      assert.match(await hci('hang'), /^ok/);
      // Traffic makes the driver send commands; a hung controller answers none of them.
      void w.api('POST', '/api/v1/onoff', { token: op, body: { address: addr['light-noob'], on: true } });
      const down = await waitBearer(false, 'meshgw to notice the controller stopped answering');
      assert.match(down.bearer_state.reason, /answer|timed? ?out/i);
      assert.match(await hci('resume'), /^ok/);
      await waitBearer(true, 'meshgw to reset the controller and carry on');
      const after = await hciStatus();
      assert.ok(after.commands > before.commands, 'the driver re-initialised the controller');
      await lightWorks('light-noob', true);
      await inventoryIntact();
    });

    test('Hardware Error: the driver resets the controller', async () => {
      const before = await hciStatus();
      assert.match(await hci('hwerror', '0x42'), /^ok/);
      await waitFor(async () => {
        const c = await hciStatus();
        return (c.opcodes?.['0x0c03'] ?? 0) > (before.opcodes?.['0x0c03'] ?? 0) && (await health()).bearer;
      }, { timeout: 30000, what: 'an HCI Reset after the Hardware Error, and the bearer ready again' });
      await lightWorks('light-static16', false);
    });

    // A controller that stays away: the session in flight fails with the bearer's state as
    // its reason (after PB-ADV's 60 s link establishment timeout), its reserved address is
    // released, and once the controller is back the same device is provisioned at that address.
    test('unplugged for good: the session fails with a clear reason, nothing is lost', { skip: bearer !== 'hci-ext' && 'bearer-independent: run once, on the extended controller' }, async () => {
      const nodesBefore = (await w.ok('GET', '/api/v1/nodes?limit=100', { token: viewer })).items.length;
      assert.match(await hci('hangup'), /^ok/);
      await waitBearer(false, 'meshgw to notice the unplugged controller');
      // Requests that must go on the air now are refused at once, naming the controller's state.
      const light = await w.api('POST', '/api/v1/onoff', { token: op, body: { address: addr['light-noob'], on: true } });
      assert.equal(light.status, 503, `${light.status} ${light.text}`);
      assert.match(light.body.detail, /radio is not ready \(bearer uart:\S+ (down-reopening|failed)/);
      const relay = await w.api('POST', `/api/v1/nodes/${addr['light-noob']}/config`, { token: op, body: { op: 'relay_get' } });
      assert.equal(relay.status, 503, `${relay.status} ${relay.text}`);
      const r = await w.api('POST', '/api/v1/provisioning', {
        token: op, body: { devices: [{ uuid: w.device('sensor-static32').uuid, name: 'sensor-static32', auth: w.authFor('sensor-static32') }] },
      });
      let failed;
      if (r.status === 202) {
        failed = await w.waitSession(r.body.sessions[0].id, ['failed'], { timeout: 120000 });
        assert.match(failed.error, /bearer uart:\S+ (down-reopening|failed)/, `the reason names the controller's state: ${failed.error}`);
        console.log(`# session failed: ${failed.error}`);
      } else {
        // Refused at once is as clear, if it says why.
        assert.equal(r.status, 503, `${r.status} ${r.text}`);
        assert.match(r.body.detail, /bearer|controller/i);
        console.log(`# refused: ${r.body.detail}`);
      }
      assert.match(await hci('plug'), /^ok/);
      await waitBearer(true, 'the controller back');
      const nodes = (await w.ok('GET', '/api/v1/nodes?limit=100', { token: viewer })).items;
      assert.equal(nodes.length, nodesBefore, 'no node added or lost');
      // Addresses are handed out lowest free first: the failed session's reservation is free again.
      const expectAddr = Math.max(...nodes.map((n) => n.address + n.elements - 1)) + 1;
      const { done } = await w.provision(['sensor-static32']);
      assert.equal(done[0].address, expectAddr, 'the reserved address was released and handed out again');
      addr['sensor-static32'] = done[0].address;
      if (failed) {
        assert.equal(failed.address, null, 'the failed session holds no address');
      }
      await inventoryIntact();
    });

    test('garbage on the line: re-synchronised, nothing lost', async () => {
      // The bearer still reads ready until the driver has read the burst: wait for the
      // HCI Reset of its re-synchronisation (the burst has no valid packet indicator).
      const before = await hciStatus();
      assert.match(await hci('garbage'), /^ok/);
      await waitFor(async () => {
        const c = await hciStatus();
        return (c.opcodes?.['0x0c03'] ?? 0) > (before.opcodes?.['0x0c03'] ?? 0) && (await health()).bearer;
      }, { timeout: 30000, what: 'an HCI Reset after the garbage, and the bearer ready again' });
      await lightWorks('light-noob', false);
      await inventoryIntact();
      const c = await hciStatus();
      assert.equal(c.flow_violations, 0);
    });
  });
}
