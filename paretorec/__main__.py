from paretorec.cli import main

main()
