"""The models of the integrated study besides the CNNs: the clinical signature and the SVM fusion."""
