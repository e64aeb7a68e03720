"""The Streamlit web page: upload a photo, see what is in it and what is nearest."""
