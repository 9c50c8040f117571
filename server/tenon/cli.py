"""`tenon`: serve LSP (stdio or TCP), complete a file once, or check the setup."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

from tenon import __version__
from tenon.logs import setup_logging
from tenon.settings import DEVICES, LOG_LEVELS, Settings

log = logging.getLogger("tenon.cli")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_tcp(value: str, host: str | None) -> tuple[str, int]:
    """``PORT`` or ``HOST:PORT``, loopback by default. Any other address must be given with
    ``--host`` itself: a server reachable from other machines is never an accident."""
    text_host, _, port = value.rpartition(":")
    text_host = text_host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        raise SystemExit(f"tenon: --tcp takes PORT or HOST:PORT, got {value!r}") from None
    if host is None and text_host and not is_loopback(text_host):
        raise SystemExit(f"tenon: {text_host} is not a loopback address; anyone who can reach "
                         f"it could use the server. Pass --host {text_host} if you mean it.")
    return host or text_host or "127.0.0.1", number


def add_model_args(parser: argparse.ArgumentParser, log_level: str = "info") -> None:
    parser.add_argument("--bundle", default="", help="model bundle folder (default: published)")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default=log_level)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenon", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tenon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve LSP on stdio (default) or TCP")
    serve.add_argument("--tcp", metavar="[HOST:]PORT", help="serve TCP instead of stdio")
    serve.add_argument("--host", help="bind address for --tcp (default 127.0.0.1)")
    serve.add_argument("--log-file", help="log here instead of stderr")
    add_model_args(serve)
    once = sub.add_parser("complete", help="print one completion for a file, then exit")
    once.add_argument("file")
    once.add_argument("--line", type=int, help="0-based line (default: end of file)")
    once.add_argument("--character", type=int, default=0)
    add_model_args(once, "warning")
    doctor = sub.add_parser("doctor", help="check the installation and the model bundle")
    add_model_args(doctor, "warning")
    return parser


def serve(args: argparse.Namespace) -> int:
    from tenon.server import ServerConfig, build_server

    if args.tcp is None and args.host:
        raise SystemExit("tenon: --host only applies with --tcp")
    address = parse_tcp(args.tcp, args.host) if args.tcp is not None else None
    setup_logging(args.log_level, args.log_file)
    settings = Settings(bundle_path=args.bundle, device=args.device, log_level=args.log_level)
    server = build_server(ServerConfig(settings=settings))
    if address is None:
        log.info("serving LSP on stdio")
        server.start_io()
        return 0
    host, port = address
    if not is_loopback(host):
        log.warning("binding %s (--host): anyone who can reach this address can use the "
                    "server; it has no authentication", host)
    server.start_tcp(host, port)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    from tenon import oneshot

    setup_logging(args.log_level)
    if args.command == "complete":
        return oneshot.complete_file(args)
    return oneshot.doctor(args)


if __name__ == "__main__":
    sys.exit(main())
