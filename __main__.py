"""The Pulumi program: `pulumi up` and the offline engine both run this file."""

from inferstack.program import main

main()
