#!/usr/bin/env python3
"""Start-up to ready: starts `BINARY run --config CONFIG` RUNS times and measures, each time, from
just before the process is spawned until GET /readyz on 127.0.0.1:ADMIN_PORT answers 200 (polled
every millisecond), and the CPU time the process had used by then (it does not depend on how busy
the machine is). Stops each process it started (by its pid) before the next run. Prints, in
milliseconds, the median and the slowest wall time and the median CPU time:
usage startup.py BINARY CONFIG ADMIN_PORT RUNS."""
import os
import socket
import statistics
import subprocess
import sys
import time

REQUEST = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(REQUEST)
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def cpu_ms(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def one_run(binary: str, config: str, port: int) -> tuple:
    started = time.monotonic()
    process = subprocess.Popen([binary, "run", "--config", config],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 10
        while not ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the proxy exited or did not become ready within 10 s")
            time.sleep(0.001)
        return (time.monotonic() - started) * 1000, cpu_ms(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    binary, config, port, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    runs = [one_run(binary, config, port) for _ in range(runs)]
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    print(f"{statistics.median(wall):.1f} {max(wall):.1f} {statistics.median(cpu):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
