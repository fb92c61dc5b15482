"""The weekly tension briefing: figures (data, online, operations), a drafted key judgement
(draft), charts and a map (charts), HTML, Markdown and PDF (render), the archive (archive) and
the scheduled job that emails it (job). Nothing heavy is imported here."""
