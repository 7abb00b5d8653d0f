from spcs_iac.drivers.cli.main import app

app(prog_name="spcs-iac")
