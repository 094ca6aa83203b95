#!/usr/bin/env python3
# make-seeds.py: writes the hand-made seed inputs and the reproducers of known defects into corpus/TARGET/.
# usage: tests/fuzz/make-seeds.py [BUILD_DIR]   (BUILD_DIR: a meson build, for the test guests; default build)
# Certificates come from `cloak sev-export --sev-backend sim` and `cloak-owner session` of that build.
import base64, os, shutil, struct, subprocess, sys, tempfile, uuid

here = os.path.dirname(os.path.abspath(__file__))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', '..', 'build'))
corpus = os.path.join(here, 'corpus')


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- virtqueues: the header of dev_glue.h and a guest memory image
def qhdr(log2size, desc, avail, used):
    return bytes([log2size]) + struct.pack('<HHH', desc // 16, avail // 2, used // 4)


class Mem:
    def __init__(self, size=0x1000):
        self.b = bytearray(size)

    def w(self, off, data):
        self.b[off:off + len(data)] = data

    def desc(self, table, i, addr, ln, flags=0, nxt=0):
        self.w(table + 16 * i, struct.pack('<QIHH', addr, ln, flags, nxt))

    def avail(self, at, heads):
        self.w(at, struct.pack('<HH', 0, len(heads)) + b''.join(struct.pack('<H', h) for h in heads))


NEXT, WRITE, INDIRECT = 1, 2, 4
DESC, AVAIL, USED = 0x000, 0x080, 0x0c0


def blk_seed(name, flags, reqs, indirect=False):
    """reqs: list of (type, sector, [(len, writable, payload)])"""
    m = Mem(0x2000)
    buf, d, heads = 0x200, 0, []
    for typ, sector, segs in reqs:
        chain = [(16, False, struct.pack('<IIQ', typ, 0, sector))] + segs + [(1, True, b'\xff')]
        table, first = (0x110, 0) if indirect else (DESC, d)
        heads.append(d)
        for k, (ln, wr, payload) in enumerate(chain):
            m.w(buf, payload)
            last = k == len(chain) - 1
            m.desc(table, first + k, buf, ln, (WRITE if wr else 0) | (0 if last else NEXT), first + k + 1)
            buf += (ln + 15) & ~15
        if indirect:
            m.desc(DESC, d, 0x110, 16 * len(chain), INDIRECT)
            d += 1
        else:
            d += len(chain)
    m.avail(AVAIL, heads)
    hdr = bytes([flags]) + qhdr(3, DESC, AVAIL, USED) + qhdr(0, 0, 0, 0)
    put('blk', name, hdr + bytes(m.b[:buf]))


T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13
blk_seed('read', 0, [(T_IN, 1, [(512, True, b'')])])
blk_seed('write', 0, [(T_OUT, 2, [(1024, False, b'\x5a' * 1024)])])
blk_seed('write-ro', 4, [(T_OUT, 2, [(512, False, b'\x5a' * 512)])])
blk_seed('flush-event-idx', 1, [(T_FLUSH, 0, [])])
blk_seed('get-id', 0, [(T_GET_ID, 0, [(20, True, b'')])])
blk_seed('discard', 0, [(T_DISCARD, 0, [(16, False, struct.pack('<QII', 1, 2, 0))])])
blk_seed('write-zeroes', 0, [(T_WZ, 0, [(16, False, struct.pack('<QII', 3, 4, 1))])])
blk_seed('two-requests-half-shared', 8, [(T_IN, 0, [(512, True, b'')]), (T_OUT, 5, [(512, False, b'\x11' * 512)])])
blk_seed('indirect', 2, [(T_IN, 4, [(256, True, b''), (256, True, b'')])], indirect=True)


# ---- virtio-net: RX queue 0 and TX queue 1
RXD, RXA, RXU, TXD, TXA, TXU = 0x000, 0x080, 0x0c0, 0x200, 0x280, 0x2c0


def frame(n):
    eth = bytes.fromhex('525400123456') + bytes.fromhex('525400abcdef') + b'\x08\x00'
    return bytes(12) + eth + bytes((i * 7) & 0xff for i in range(n - 12 - len(eth)))


def net_seed(name, flags, frames, m, rx_used=RXU):
    lens = [len(f) for f in frames] + [0] * (4 - len(frames))
    hdr = bytes([flags]) + qhdr(3, RXD, RXA, rx_used) + qhdr(3, TXD, TXA, TXU)
    spec = bytes([len(frames)]) + b''.join(struct.pack('<H', n) for n in lens)
    put('net', name, hdr + spec + b''.join(frames) + bytes(m.b))


m = Mem(0x1000)
m.desc(RXD, 0, 0x400, 1526, WRITE)
m.avail(RXA, [0])
net_seed('rx-one-frame', 0, [frame(74)], m)
m = Mem(0x1000)
m.desc(RXD, 0, 0x400, 600, WRITE)
m.desc(RXD, 1, 0x800, 600, WRITE)
m.avail(RXA, [0, 1])
net_seed('rx-mergeable', 4, [frame(1000)], m)
m = Mem(0x1000)
f = frame(72)
m.w(0x600, f)
m.desc(TXD, 0, 0x600, 12, NEXT, 1)
m.desc(TXD, 1, 0x60c, len(f) - 12)
m.avail(TXA, [0])
m.desc(RXD, 0, 0x400, 1526, WRITE)
m.avail(RXA, [0])
net_seed('tx-and-rx-event-idx', 1, [frame(60), frame(90)], m)
# Issue 12: the RX used ring on the RX avail ring and a chain that fails: each completion raises the avail
# index, and the rewind in net_deliver makes the device pop the same entries again and again.
m = Mem(0x1000)
m.desc(RXD, 0, 0xfff00000, 64, WRITE)
m.avail(RXA, [0, 0])
net_seed('repro-rx-used-on-avail', 0, [frame(74)], m, rx_used=RXA)

# ---- virtq (its own 16-byte header, fuzz_virtq.c) and pci (11-byte records, fuzz_pci.c): one each
m = Mem(0x400)
m.desc(0, 0, 0x200, 16, NEXT, 1)
m.desc(0, 1, 0x300, 64, WRITE)
m.avail(0x80, [0])
put('virtq', 'one-chain', bytes([3, 0, 0, 0x40, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) + bytes(m.b))
put('pci', 'status-and-queue', bytes([0]) + b''.join(bytes([k, off & 0xff, off >> 8, sz]) + struct.pack('<Q', v)[:7]
                                                     for k, off, sz, v in [(1, 0x04, 1, 6), (3, 0x14, 0, 3), (3, 0x18, 1, 8),
                                                                           (3, 0x1c, 1, 1), (3, 0x14, 0, 15), (5, 0, 0, 0)]))

# ---- attest replies
hdr52 = base64.b64encode(bytes(range(52))).decode()
payload = base64.b64encode(bytes(32)).decode()
put('attest', 'empty', '')
put('attest', 'secret', f'# from the owner\nSECRET_HEADER={hdr52}\nSECRET_PAYLOAD={payload}\nSECRET_GPA=0x7000\n')
put('attest', 'secret-crlf', f'SECRET_GPA=28672\r\n  SECRET_PAYLOAD = {payload}\r\nSECRET_HEADER={hdr52}\r\n')
put('attest', 'lacks-gpa', f'SECRET_HEADER={hdr52}\nSECRET_PAYLOAD={payload}\n')
put('attest', 'repro-secret-header-AAA', 'SECRET_HEADER=AAA\n')  # issue 12: uninitialised free

# ---- cmdline: NUL-separated arguments after "run"
for name, args in {
    'kernel-mem-cpus': ['--kernel', 'k.elf', '--initrd', 'i.gz', '--cmdline', 'console=ttyS0', '--mem', '512M', '--cpus', '2'],
    'devices': ['--disk', 'a.img', '--disk', 'b.img,ro', '--net', 'tap=tap0,mac=52:54:00:12:34:56',
                '--console', 'socket=/tmp/c.sock', '--timeline', 't.json'],
    'device-forms': ['--disk', 'ro=on,path=c=d.img', '--disk', 'path=e.img,ro=off', '--net', 'mac=02:00:00:00:00:01,tap=t'],
    'cpuid': ['--cpuid-clear', 'xsave,avx', '--cpuid-clear', '7.0:ebx:5', '--no-pin', '--hugepages'],
    'sev': ['--sev', '--policy', '0x1', '--dh-cert-file', 'g.b64', '--session-file', 's.b64', '--sev-backend', 'sim',
            '--sev-sim-key', 'k.pem', '--attest-cmd', './verify', '--measurement-out', 'm.bin'],
    'repro-xh': ['-xh'],  # issue 12: a cluster of short options
    'help': ['--help'],
}.items():
    put('cmdline', name, '\0'.join(args))

# ---- ovmf: a footer table holding the three entries cloak-owner looks for
def guid(s):
    return uuid.UUID(s).bytes_le


def ovmf(entries, pad=64):
    body = b''
    for g, data in entries:
        body += data + struct.pack('<H', len(data) + 18) + guid(g)
    table = body + struct.pack('<H', len(body) + 18) + guid('96b582de-1fb2-45f7-baea-a366c55a082d')
    return bytes(pad) + table + bytes(32)


put('ovmf', 'hashes-secret-es', ovmf([('00f771de-1a7e-4fcb-890e-68c77e2fb44e', struct.pack('<I', 0xffffe000)),
                                       ('4c2eb361-7d9b-4cc3-8081-127c90d3d294', struct.pack('<II', 0x80b000, 0x1000)),
                                       ('7255371f-3a3b-4b04-927b-1da6efa8d454', struct.pack('<II', 0x80c000, 0x400))]))
put('ovmf', 'no-hashes', ovmf([('4c2eb361-7d9b-4cc3-8081-127c90d3d294', struct.pack('<II', 0x80b000, 0x1000))]))

# ---- loaders: the test guests of the build (stripped), and issue 12's short bzImage
guests = os.path.join(build, 'tests', 'guests')
for src, target in [('hello.elf', 'elf'), ('pvh.elf', 'elf')]:
    out = os.path.join(corpus, target, src)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(['strip', '-o', out, os.path.join(guests, src)], check=True)
os.makedirs(os.path.join(corpus, 'bzimage'), exist_ok=True)
shutil.copy(os.path.join(guests, 'bzguest.bzImage'), os.path.join(corpus, 'bzimage', 'bzguest.bzImage'))
shutil.copy(os.path.join(guests, 'bzguest-old.bzImage'), os.path.join(corpus, 'bzimage', 'bzguest-old.bzImage'))
short = bytearray(0x206)
short[0x202:0x206] = b'HdrS'
put('bzimage', 'repro-short-0x206', bytes(short))  # issue 12: read 2 bytes past the end

# ---- session: a simulated platform's PDH, the owner's GODH and session; issue 12's 5-byte PDH
with tempfile.TemporaryDirectory() as t:
    cloak, owner = os.path.join(build, 'vmm', 'cloak'), os.path.join(build, 'tools', 'owner', 'cloak-owner')
    subprocess.run([cloak, 'sev-export', '--sev-backend', 'sim', '--sev-sim-key', f'{t}/k.pem', f'{t}/pdh'],
                   check=True, capture_output=True)
    subprocess.run([owner, 'session', '--name', f'{t}/o', f'{t}/pdh', '0x1'], check=True, capture_output=True)
    pdh = open(f'{t}/pdh', 'rb').read()
    godh = base64.b64decode(open(f'{t}/o_godh.b64').read())
    session = base64.b64decode(open(f'{t}/o_session.b64').read())
put('session', 'pdh-raw', pdh)
put('session', 'pdh-b64', base64.b64encode(pdh) + b'\n')
put('session', 'godh-and-session-b64', base64.encodebytes(godh + session))
put('session', 'session-b64', base64.b64encode(session))
put('session', 'repro-pdh-5-bytes', b'AAAAA')
put('owner', 'pdh-raw', pdh)
put('owner', 'pdh-b64', base64.b64encode(pdh) + b'\n')
put('owner', 'repro-pdh-5-bytes', b'AAAAA')  # issue 12: cloak-owner session frees garbage
