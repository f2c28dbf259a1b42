// placeholder; the deck-plugin owner replaces this
