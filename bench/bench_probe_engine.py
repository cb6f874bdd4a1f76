# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: probes per second on one lab node, the one-process ICMP engine against a ``ping`` per probe.

Run with `make bench` (or `.venv/bin/python bench/bench_probe_engine.py` after `make tree`), as root with rootful
podman (tests/lab/bootstrap-podman.sh). Brings up the lab netplumb-bench-pe (2 podman nodes, 198.18.130.0/24
management, 198.18.131.0/24 data), puts 2,000 addresses (198.19.200.0/21) on worker2's nic1 to stand in for a large
cluster's peers, routes them on worker1 through worker2's nic1 address, and in the same run has worker1 probe all
2,000 with the connectivity_probe module (one Ansible task each):

(a) ``engine=icmp``: every echo sent and received by the module's own process;
(b) ``engine=ping``: one ``ping`` per probe, ``concurrency`` 16 at once (the module's default);

each with one echo request per probe and a 1 s timeout. It prints the probes per second each reached inside the
node (the module's own ``elapsed``), the ratio, and PASS/FAIL against the target "icmp >= 20x the probes per second
of a process per probe", checks that every probe connected with both engines and that their results have the same
fields, and prints the machine's load. The lab is taken down at the end, also when a run fails.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_connectivity_matrix import BIN, LAB, REPO, TUNING, verdict  # noqa: E402

PREFIX, OFFSET = 'netplumb-bench-pe', 130
ADDRESSES = 2000
TARGET_RATIO = 20.0
PLAY = '''
- name: Probe every address from worker1
  hosts: worker1
  gather_facts: false
  tasks:
    - name: Probe
      netplumb.multihome.connectivity_probe:
        probes: "{{ lookup('ansible.builtin.file', probes_file) | from_json }}"
        engine: "{{ engine }}"
        count: 1
        timeout: 1
        concurrency: 16
      register: probed

    - name: Report
      ansible.builtin.copy:
        content: "{{ probed | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      delegate_to: localhost
'''


def addresses():
    return ['198.19.%d.%d' % (200 + i // 250, 1 + i % 250) for i in range(ADDRESSES)]


def probe(lab, workdir, engine, probes_file):
    play = os.path.join(workdir, 'play.yml')
    with open(play, 'w') as handle:
        handle.write(PLAY)
    result_file = os.path.join(workdir, 'result-%s.json' % engine)
    start = time.time()
    proc = subprocess.run(
        [
            os.path.join(BIN, 'ansible-playbook'),
            '-i',
            lab.inventory,
            play,
            '-e',
            json.dumps({'engine': engine, 'probes_file': probes_file, 'result_file': result_file}),
        ],
        cwd=REPO,
        env=lab.ansible_env(**TUNING),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError('engine=%s failed: %s%s' % (engine, proc.stdout[-3000:], proc.stderr[-2000:]))
    with open(result_file) as handle:
        return json.load(handle), time.time() - start


def main():
    print(
        'probe engine benchmark: worker1 probes %d addresses on worker2; %d CPUs, load average %s'
        % (ADDRESSES, os.cpu_count() or 0, ' '.join('%.1f' % x for x in os.getloadavg()))
    )
    lab = None
    try:
        start = time.time()
        with LAB.lab_up(PREFIX, nodes=2, nics=1, subnet_offset=OFFSET) as lab, tempfile.TemporaryDirectory() as workdir:
            print('lab %s up in %.1f s' % (PREFIX, time.time() - start))
            batch = ''.join('addr add %s/32 dev nic1\n' % address for address in addresses())
            added = LAB.podman('exec', '-i', lab.containers['worker2'], 'ip', '-batch', '-', input=batch)
            assert added.returncode == 0, added.stderr
            peer = lab.nics['worker2']['nic1'].split('/')[0]
            routed = lab.exec('worker1', 'ip', 'route', 'add', '198.19.200.0/21', 'via', peer, 'dev', 'nic1')
            assert routed.returncode == 0, routed
            src = lab.nics['worker1']['nic1'].split('/')[0]
            probes_file = os.path.join(workdir, 'probes.json')
            with open(probes_file, 'w') as handle:
                json.dump(
                    [{'src': src, 'dst': dst, 'network': '198.19.200.0/21', 'peer': 'worker2'} for dst in addresses()],
                    handle,
                )
            rates = {}
            shapes = {}
            for engine in ('icmp', 'ping'):
                result, wall = probe(lab, workdir, engine, probes_file)
                assert result['engine'] == engine, result['engine']
                if result['connected'] != ADDRESSES or result['total'] != ADDRESSES:
                    broken = [p for p in result['probes'] if not p['connected']][:3]
                    raise AssertionError(
                        'engine=%s: %d/%d connected, e.g. %s' % (engine, result['connected'], result['total'], broken)
                    )
                rates[engine] = ADDRESSES / result['elapsed']
                shapes[engine] = set(result['probes'][0])
                print(
                    '(%s) engine=%s: %d/%d connected in %.2f s inside the node = %.0f probes/s (the task %.1f s with '
                    'Ansible; load %.1f)'
                    % (
                        'a' if engine == 'icmp' else 'b',
                        engine,
                        result['connected'],
                        result['total'],
                        result['elapsed'],
                        rates[engine],
                        wall,
                        os.getloadavg()[0],
                    )
                )
            assert shapes['icmp'] == shapes['ping'], shapes
            ratio = rates['icmp'] / rates['ping']
            print(
                'ratio: the icmp engine probes %.1fx faster than a ping per probe (target >= %.0fx) %s'
                % (ratio, TARGET_RATIO, verdict(ratio >= TARGET_RATIO))
            )
    finally:
        if lab is not None and lab.found() != ([], []):
            start = time.time()
            lab.down()
            print('lab %s down in %.1f s' % (PREFIX, time.time() - start))


if __name__ == '__main__':
    main()
