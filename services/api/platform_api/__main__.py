"""``python -m platform_api --host 127.0.0.1 --port 18080``: one uvicorn worker, no access log.

One process per container: Kubernetes scales replicas, so there is no worker manager here. The
settings are checked before the server starts, so a missing variable is one clear line and exit
code 2 rather than a traceback from inside the server.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="platform_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    args = parser.parse_args(argv)

    import uvicorn

    from platform_api.app import create_app
    from platform_api.auth import KeySource
    from platform_api.errors import ConfigurationError
    from platform_api.settings import Settings

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()  # type: ignore[call-arg]  # every field comes from the environment
        # A missing secret file stops the start, not the first query that needs it.
        settings.mysql_password()
        settings.redis_password()
        settings.kafka_sasl_password()
        KeySource(settings.auth_jwks_file, settings.auth_jwks_url).load_now()
    except ValidationError as exc:
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
            print(f"platform_api: {name}: {error['msg']}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigurationError as exc:
        print(f"platform_api: {exc}", file=sys.stderr)
        return EXIT_USAGE

    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        workers=1,
        access_log=False,
        server_header=False,
        log_level=args.log_level,
        timeout_graceful_shutdown=10,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
