"""Entry point of the inferstack component plugin: serves ``inferstack.provider.COMPONENTS`` to the Pulumi engine."""

from inferstack.provider import main

if __name__ == "__main__":
    main()
