"""``python -m demo.build_annexes``: write the annex templates into demo/annexes/."""

from demo.build_annexes import ANNEXES, build


def main() -> None:
    ANNEXES.mkdir(exist_ok=True)
    for name, content in build().items():
        (ANNEXES / name).write_bytes(content)
        print(f"{ANNEXES / name} ({len(content)} octets)")  # noqa: T201 (a build script)


if __name__ == "__main__":
    main()
