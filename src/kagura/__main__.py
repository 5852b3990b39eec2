from kagura.cli import main

main()
