from bot.cli import main

# Guarded: extraction workers re-import the main module, which must not start the CLI again.
if __name__ == "__main__":
    main()
