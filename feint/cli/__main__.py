from feint.cli import main

main()
