"""The reports agent: templates -> PDF (ReportLab), XLSX (openpyxl), CSV, stored as
encrypted blobs of the tenant; also a workflow step (`report`)."""
