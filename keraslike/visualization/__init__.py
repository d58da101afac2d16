"""Drawing helpers (`keras.visualization`): boxes and masks on images, and image galleries."""
