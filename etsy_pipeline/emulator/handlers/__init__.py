"""Request handlers, one module per area of Etsy's API. They parse, apply the backend's rules and render."""
