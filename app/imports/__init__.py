"""Members in and out as spreadsheets: the import (XLSX or CSV), its template, the export."""
