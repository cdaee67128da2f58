"""Deployment: the denoiser as ONNX (``deploy.onnx``) for onnxruntime and other runtimes."""
