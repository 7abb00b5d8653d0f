from spcs_iac.cli.main import app

app(prog_name="spcs-iac")
