import json


def load_settings(path):
    # read the config file and return the port as an int
    
