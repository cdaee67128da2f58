from motiongen.cli.commands import main

main()
