"""What the book shows and how: claims and their verdicts, the TRIPOD+AI checklist, number formats, exhibits, chapter setup, publishing and the privacy check."""
