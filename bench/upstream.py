"""A minimal JSON upstream for benchmarks: one route, a small fixed body, keep-alive."""

import sys

from aiohttp import web

BODY = (
    b'{"id":"8f89a1b6-5d1c-4c6e-9a55-0c3d2b1a0f11",'
    b'"fullName":"Ada Yilmaz","birthDate":"1990-01-01"}'
)


async def handle(_: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
