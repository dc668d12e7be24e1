export const PACKAGE_NAME = 'placeholder';
