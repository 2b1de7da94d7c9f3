"""Reports: self-contained HTML pages of studies, with figures embedded."""
