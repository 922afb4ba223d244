#!/usr/bin/env python3
"""Slow-header attackers for tests/load/flood.sh, in a process of their own: COUNT attackers on loopback, each
completing a TLS handshake, sending the start of a request and then one header byte a second, and connecting again
when the server closes the connection (after 0.1 s when it refuses it), for SECONDS. Prints one JSON line of counts.
  tests/load/slow-flood.py PORT COUNT SECONDS"""
import asyncio, json, ssl, sys, time
port = int(sys.argv[1]); count = int(sys.argv[2]); seconds = float(sys.argv[3])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
st = {"handshakes": 0, "refused": 0, "closed": 0, "open": 0, "peak": 0}
async def attack(deadline, gate):
    while time.monotonic() < deadline:
        try:
            async with gate:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost"), 5)
                w.write(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: "); await w.drain()
        except Exception:
            st["refused"] += 1; await asyncio.sleep(0.1); continue
        st["handshakes"] += 1; st["open"] += 1; st["peak"] = max(st["peak"], st["open"])
        c = asyncio.ensure_future(r.read(256))
        try:
            while time.monotonic() < deadline:
                d, _ = await asyncio.wait([c], timeout=1)
                if d: st["closed"] += 1; break
                w.write(b"a"); await w.drain()
        except Exception: pass
        st["open"] -= 1; c.cancel(); w.close()
async def main():
    gate = asyncio.Semaphore(64); dl = time.monotonic() + seconds
    await asyncio.gather(*(attack(dl, gate) for _ in range(count)), return_exceptions=True)
    print(json.dumps(st))
asyncio.run(main())
