"""Starts the FastAPI + XGBoost baseline under uvicorn with N worker processes sharing one socket.

    /usr/bin/python3 bench/fastapi/serve.py --model DIR [--host 127.0.0.1] [--port 0] [--workers 2]

What `uvicorn app:create_app --factory --workers N` does, except that the socket is bound here (see
listening_socket), so port 0 works (the OS picks) and the address is known: prints {"event": "listening", "url", ...}
on stdout, then each worker prints {"event": "ready", ...} once its model is loaded. SIGTERM stops
the workers and exits. API keys from RETAIL_MLOPS_API_KEYS (comma-separated).
"""
import argparse
import importlib.util
import json
import os
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def listening_socket(host: str, port: int) -> socket.socket:
    """What uvicorn's Config.bind_socket does, with the protocol said: uvicorn 0.17 leaves `proto` 0,
    accepted connections inherit it, and asyncio then skips TCP_NODELAY on them, so every keep-alive
    response waits ~40 ms for the client's delayed ACK (Kludex/uvicorn#3149). Not a baseline to measure."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the model directory (see app.py)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="auto: uvloop when installed")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto", help="auto: httptools when installed")
    arguments = parser.parse_args()

    os.environ["RETAIL_MLOPS_FASTAPI_MODEL"] = os.path.abspath(arguments.model)
    sys.path.insert(0, HERE)  # the workers (spawned) inherit it and import app.py from here
    config = uvicorn.Config(
        "app:create_app",
        factory=True,
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        loop=arguments.loop,
        http=arguments.http,
        log_level="warning",
        access_log=False,
    )
    sock = listening_socket(arguments.host, arguments.port)
    host, port = sock.getsockname()[:2]
    print(
        json.dumps(
            {
                "event": "listening",
                "url": f"http://{host}:{port}",
                "workers": arguments.workers,
                # uvicorn's "auto" picks uvloop and httptools when installed (uvicorn[standard]), else asyncio and h11
                "loop": arguments.loop if arguments.loop != "auto" else "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
                "http": arguments.http if arguments.http != "auto" else "httptools" if importlib.util.find_spec("httptools") else "h11",
            }
        ),
        flush=True,
    )
    server = uvicorn.Server(config)
    if arguments.workers > 1:
        Multiprocess(config, target=server.run, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])


if __name__ == "__main__":
    main()
