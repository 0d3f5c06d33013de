"""News in: fetch feeds and pages, parse, extract, detect language, score, match stories, store."""
