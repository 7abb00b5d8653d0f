#!/bin/sh
# Run Jupyter when it is installed, else the small contents server.
if python3 -c "import notebook" 2>/dev/null; then
  exec jupyter notebook --ip=0.0.0.0 --port=8888 --no-browser --NotebookApp.token='' --NotebookApp.password=''
fi
exec python3 /opt/notebook/notebook_server.py
